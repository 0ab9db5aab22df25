// ANSI styling inside one string, so a row with several colours is one Ink <Text> node
// instead of many (Ink's cost grows with the number of nodes). NO_COLOR turns it off.
const SGR: Record<string, [string, string]> = {
  bold: ['1', '22'],
  dim: ['2', '22'],
  inverse: ['7', '27'],
  red: ['31', '39'],
  green: ['32', '39'],
  yellow: ['33', '39'],
  cyan: ['36', '39'],
  magenta: ['35', '39'],
  gray: ['90', '39'],
};

/** Whether styles are drawn at all (NO_COLOR, FORCE_COLOR=0 turn them off). */
export const colorEnabled = (): boolean => !('NO_COLOR' in process.env) && process.env['FORCE_COLOR'] !== '0';

export function paint(text: string, ...styles: (keyof typeof SGR | false | null | undefined)[]): string {
  const on = styles.filter((s): s is keyof typeof SGR => !!s);
  if (on.length === 0 || !colorEnabled()) return text;
  return `\x1b[${on.map((s) => SGR[s]![0]).join(';')}m${text}\x1b[${on.map((s) => SGR[s]![1]).join(';')}m`;
}
