/** Text from a message or a peer, made safe for one header line or log field. */
export function oneLine(s: string, max = 2000): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, max);
}
