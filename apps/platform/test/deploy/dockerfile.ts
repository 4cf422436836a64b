/**
 * A Dockerfile read into instructions and stages, and .dockerignore matching, for the static
 * checks of the image build (there is no Docker engine on the test machines).
 */

/** One instruction, continuation lines joined, with the line it starts on. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** A build stage: `FROM <base> AS <name>` and its instructions. */
export interface Stage {
  readonly name: string | null;
  readonly base: string;
  readonly index: number;
  readonly instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM (usable in FROM lines). */
  readonly globalArgs: Map<string, string | null>;
  readonly stages: Stage[];
  readonly instructions: Instruction[];
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split('\n');
  const instructions: Instruction[] = [];
  let current: { parts: string[]; line: number } | null = null;
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comment lines (parser directives included) are dropped, also inside continuations.
    if (trimmed.startsWith('#')) return;
    if (current === null && trimmed === '') return;
    const continues = /\\\s*$/.test(raw);
    const content = continues ? raw.replace(/\\\s*$/, '') : raw;
    if (current === null) current = { parts: [], line: index + 1 };
    current.parts.push(content.trim());
    if (!continues) {
      const joined = current.parts.filter(Boolean).join(' ');
      const match = /^(\S+)\s*([\s\S]*)$/.exec(joined);
      if (match) {
        instructions.push({
          keyword: (match[1] ?? '').toUpperCase(),
          args: match[2] ?? '',
          line: current.line,
        });
      }
      current = null;
    }
  });
  if (current !== null) throw new Error('the Dockerfile ends inside a continued line');

  const globalArgs = new Map<string, string | null>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--'));
      const [base = '', as, name] = words;
      if (as !== undefined && as.toUpperCase() !== 'AS') {
        throw new Error(`line ${instruction.line}: FROM ${instruction.args}`);
      }
      stages.push({ name: name ?? null, base, index: stages.length, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG') {
        throw new Error(`line ${instruction.line}: only ARG may come before the first FROM`);
      }
      for (const [name, value] of parseArg(instruction.args)) globalArgs.set(name, value);
    } else {
      stages[stages.length - 1]?.instructions.push(instruction);
    }
  }
  return { globalArgs, stages, instructions };
}

/** `ARG NAME[=default] …` */
export function parseArg(args: string): Array<[string, string | null]> {
  return args
    .split(/\s+/)
    .filter(Boolean)
    .map((word): [string, string | null] => {
      const separator = word.indexOf('=');
      return separator < 0
        ? [word, null]
        : [word.slice(0, separator), unquote(word.slice(separator + 1))];
    });
}

/** `ENV K=V …` or the legacy `ENV K V`. */
export function parseEnv(args: string): Array<[string, string]> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const [name = '', ...rest] = args.split(/\s+/);
    return [[name, rest.join(' ')]];
  }
  const pairs: Array<[string, string]> = [];
  const pattern = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const match of args.matchAll(pattern)) {
    pairs.push([match[1] ?? '', unquote(match[2] ?? '')]);
  }
  return pairs;
}

function unquote(value: string): string {
  if (/^".*"$/.test(value) || /^'.*'$/.test(value)) return value.slice(1, -1);
  return value;
}

/** `COPY`/`ADD`: flags (`--from=build`), sources and destination; JSON form included. */
export function parseCopy(args: string): {
  flags: Map<string, string>;
  sources: string[];
  destination: string;
} {
  const flags = new Map<string, string>();
  let rest = args.trim();
  for (;;) {
    const flag = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest);
    if (!flag) break;
    flags.set(flag[1] ?? '', flag[2] ?? 'true');
    rest = rest.slice(flag[0].length);
  }
  const words = rest.startsWith('[')
    ? (JSON.parse(rest) as string[])
    : rest.split(/\s+/).filter(Boolean);
  if (words.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`);
  return { flags, sources: words.slice(0, -1), destination: words[words.length - 1] ?? '' };
}

/** The exec (JSON) form of CMD/ENTRYPOINT/HEALTHCHECK CMD, or null for the shell form. */
export function execForm(args: string): string[] | null {
  const trimmed = args.trim();
  if (!trimmed.startsWith('[')) return null;
  return JSON.parse(trimmed) as string[];
}

/** Variables referenced as `$NAME` or `${NAME…}` in `text`. */
export function referencedVariables(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))/g,
  )) {
    names.add(match[1] ?? match[2] ?? '');
  }
  return [...names];
}

// ---------------------------------------------------------------------------------------------
// .dockerignore
// ---------------------------------------------------------------------------------------------

interface IgnoreRule {
  readonly pattern: RegExp;
  readonly exclude: boolean;
  readonly source: string;
}

/** The rules of a .dockerignore file, in order. */
export function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const exclude = !line.startsWith('!');
      const body = (exclude ? line : line.slice(1)).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { pattern: globToRegExp(body), exclude, source: line };
    });
}

/** Go filepath.Match syntax plus `**` (any number of directories), as Docker reads it. */
function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob[index] ?? '';
    if (char === '*' && glob[index + 1] === '*') {
      index += 1;
      if (glob[index + 1] === '/') {
        index += 1;
        out += '(?:.*/)?';
      } else {
        out += '.*';
      }
    } else if (char === '*') {
      out += '[^/]*';
    } else if (char === '?') {
      out += '[^/]';
    } else if (char === '[') {
      const end = glob.indexOf(']', index);
      out += glob.slice(index, end + 1).replace('[!', '[^');
      index = end;
    } else {
      out += char.replace(/[.+^${}()|\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

/**
 * Whether `path` (relative to the context, `/`-separated) is left out of the build context:
 * the last rule matching the path or one of its parent directories decides.
 */
export function isIgnored(rules: readonly IgnoreRule[], path: string): boolean {
  const segments = path.split('/').filter(Boolean);
  const candidates = segments.map((_, index) => segments.slice(0, index + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.pattern.test(candidate))) ignored = rule.exclude;
  }
  return ignored;
}
