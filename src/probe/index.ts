export { startProbe, Prober, type ProbeOptions, type RunningProbe } from './probe.js';
export { runRound, PROBE_HEADER, type ProbeTarget, type RoundResult, type FailureStage } from './round.js';
export { probeTarget } from './target.js';
export { OutageTracker, type Outage } from './outage.js';
