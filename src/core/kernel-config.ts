// Kernel config fragments and .config files: parsing, checking a built config against what the profile and
// the user asked for, and the summary `kernel info` shows. Pure, so profiles are tested as values.

/** How much a fragment line matters when kconfig drops it (its dependencies are not met in this version). */
export type Need = 'require' | 'want' | 'optional';

export interface FragmentEntry {
  readonly symbol: string;
  /** 'y', 'm', 'n' (from `# CONFIG_X is not set`), or the literal value of a string/int option. */
  readonly value: string;
  readonly need: Need;
  readonly source: string;
  readonly line: number;
}

const SET = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^# CONFIG_([A-Za-z0-9_]+) is not set\s*$/;
const HEADING = /^#\s*(require|want|optional)\s*:/i;

/**
 * A fragment in kconfig's own syntax. Comment headings `# require:`, `# want:` and `# optional:` set the need
 * of the lines after them (default `want`): a required line that does not survive olddefconfig fails the build,
 * a wanted one is reported, an optional one (a feature some versions lack) is only recorded.
 */
export function parseFragment(text: string, source: string): FragmentEntry[] {
  const out: FragmentEntry[] = [];
  let need: Need = 'want';
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const heading = HEADING.exec(line);
    if (heading) {
      need = (heading[1] as string).toLowerCase() as Need;
      return;
    }
    const set = SET.exec(line);
    const unset = set ? null : UNSET.exec(line);
    if (set) out.push({ symbol: set[1] as string, value: set[2] as string, need, source, line: i + 1 });
    else if (unset) out.push({ symbol: unset[1] as string, value: 'n', need, source, line: i + 1 });
  });
  return out;
}

/** A .config as symbol → value ('n' for not set; symbols kconfig did not write are absent, which also means n). */
export function parseDotConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const set = SET.exec(line);
    if (set) out.set(set[1] as string, set[2] as string);
    else {
      const unset = UNSET.exec(line);
      if (unset) out.set(unset[1] as string, 'n');
    }
  }
  return out;
}

export interface ConfigMismatch {
  readonly entry: FragmentEntry;
  /** What the final config has ('n' when absent). */
  readonly actual: string;
}

/**
 * Lines of the fragments that the final config does not honour. Later fragments override earlier ones for the
 * same symbol (as merge_config.sh applies them), so only the last word on each symbol is checked.
 */
export function checkConfig(
  config: ReadonlyMap<string, string>,
  fragments: readonly FragmentEntry[],
): ConfigMismatch[] {
  const last = new Map<string, FragmentEntry>();
  for (const e of fragments) last.set(e.symbol, e);
  const out: ConfigMismatch[] = [];
  for (const e of last.values()) {
    const actual = config.get(e.symbol) ?? 'n';
    if (actual !== e.value) out.push({ entry: e, actual });
  }
  return out;
}

/** The options `kernel info` shows, in this order, with what each means when set. */
export const SUMMARY_SYMBOLS: readonly (readonly [string, string])[] = [
  ['UML_TIME_TRAVEL_SUPPORT', 'time-travel mode'],
  ['SMP', 'SMP'],
  ['MODULES', 'loadable modules'],
  ['STATIC_LINK', 'statically linked'],
  ['DEBUG_INFO', 'debug info'],
  ['DEBUG_INFO_DWARF5', 'DWARF 5'],
  ['GDB_SCRIPTS', 'gdb scripts'],
  ['BTRFS_FS', 'btrfs'],
  ['RAID6_PQ', 'raid6 (boot-time benchmark)'],
  ['EXT4_FS', 'ext4'],
  ['BLK_DEV_UBD', 'ubd disks'],
  ['HOSTFS', 'hostfs'],
  ['MCONSOLE', 'mconsole'],
  ['UML_NET_VECTOR', 'vector network transports'],
  ['CGROUPS', 'cgroups'],
  ['HZ', 'timer frequency'],
];

export function configSummary(config: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [symbol] of SUMMARY_SYMBOLS) out[symbol] = config.get(symbol) ?? 'n';
  return out;
}

/** A mismatch as one line for messages: where it was asked for, what was asked, what kconfig made of it. */
export function describeMismatch(m: ConfigMismatch): string {
  const want = m.entry.value === 'n' ? 'off' : `=${m.entry.value}`;
  const got = m.actual === 'n' ? 'off' : `=${m.actual}`;
  return `CONFIG_${m.entry.symbol} ${want} (${m.entry.source}:${m.entry.line}) ended up ${got}`;
}
