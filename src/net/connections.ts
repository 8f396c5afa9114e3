/** Connection limits of one listener: in total and per client address. */
export class ConnectionTable {
  private total = 0;
  private readonly perClient = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerClient: number,
  ) {}

  /** Which limit refuses a new connection from `ip`, or null to admit it. */
  refusal(ip: string): 'total' | 'client' | null {
    if (this.total >= this.maxTotal) return 'total';
    if ((this.perClient.get(ip) ?? 0) >= this.maxPerClient) return 'client';
    return null;
  }

  admit(ip: string): void {
    this.total++;
    this.perClient.set(ip, (this.perClient.get(ip) ?? 0) + 1);
  }

  release(ip: string): void {
    this.total = Math.max(0, this.total - 1);
    const n = (this.perClient.get(ip) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(ip);
    else this.perClient.set(ip, n);
  }

  get size(): number {
    return this.total;
  }
}
