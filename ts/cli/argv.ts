// The part of yargs' builder the CLI's option table uses (ts/cli/flags.ts): option(),
// parserConfiguration(), strictOptions(), fail() and parseSync(), on yargs' own parser
// (yargs-parser), with yargs' checks and messages for unknown options, missing values and
// choices. The rest of yargs (its help and usage layout, locales, commands) is never loaded:
// importing it took most of the CLI's start-up before the first probe (benches/startup.mjs;
// cliui's string-width builds Unicode tables at import). The calls that set yargs' own help,
// version and exit handling are accepted and do nothing, as the CLI turns those off anyway.
import parser from 'yargs-parser';

/** One option, as yargs' option() takes it (the keys flags.ts uses). */
export interface OptionSpec {
  type: 'string' | 'boolean' | 'count';
  choices?: readonly string[];
  /** The option must be followed by a value. */
  requiresArg?: boolean;
  default?: string | boolean | number;
  alias?: string;
  /** Hidden from yargs' help, which is never shown: no effect. */
  hidden?: boolean;
}

/** yargs' fail() handler: called with the message of the first problem found. */
export type FailHandler = (msg: string, err: Error | undefined) => void;

class Argv {
  private readonly options = new Map<string, OptionSpec>();
  private configuration: Record<string, boolean> = {};
  private strict = false;
  private onFail: FailHandler = (msg) => {
    throw new Error(msg);
  };

  constructor(private readonly args: readonly string[]) {}

  scriptName(_name: string): this {
    return this;
  }

  help(_enable: boolean): this {
    return this;
  }

  version(_enable: boolean): this {
    return this;
  }

  exitProcess(_enable: boolean): this {
    return this;
  }

  parserConfiguration(configuration: Record<string, boolean>): this {
    this.configuration = { ...this.configuration, ...configuration };
    return this;
  }

  option(name: string, spec: OptionSpec): this {
    this.options.set(name, spec);
    return this;
  }

  strictOptions(): this {
    this.strict = true;
    return this;
  }

  fail(handler: FailHandler): this {
    this.onFail = handler;
    return this;
  }

  /** Parses the arguments; a problem goes to the fail handler (which flags.ts makes throw). */
  parseSync(): Record<string, unknown> {
    const opts: parser.Options & { narg: Record<string, number> } = {
      string: [],
      boolean: [],
      count: [],
      alias: {},
      default: {},
      narg: {},
      configuration: this.configuration,
    };
    for (const [name, spec] of this.options) {
      (opts[spec.type] as string[]).push(name);
      if (spec.alias !== undefined) (opts.alias as Record<string, string[]>)[name] = [spec.alias];
      if (spec.default !== undefined) (opts.default as Record<string, unknown>)[name] = spec.default;
      if (spec.requiresArg) opts.narg[name] = 1;
    }
    const parsed = parser.detailed([...this.args], opts);
    if (parsed.error) return this.failed(parsed.error.message, parsed.error);
    const argv = parsed.argv as Record<string, unknown>;
    const known = new Set(['_', '--', ...this.options.keys(), ...[...this.options.values()].flatMap((s) => (s.alias === undefined ? [] : [s.alias]))]);
    const unknown = Object.keys(argv).filter((k) => !known.has(k));
    if (this.strict && unknown.length > 0) return this.failed(`Unknown argument${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
    for (const [name, spec] of this.options) {
      const value = argv[name];
      if (spec.choices && value !== undefined && !spec.choices.includes(String(value))) {
        return this.failed(`Invalid values:\n  Argument: ${name}, Given: ${JSON.stringify(value)}, Choices: ${spec.choices.map((c) => JSON.stringify(c)).join(', ')}`);
      }
    }
    return argv;
  }

  private failed(msg: string, err?: Error): Record<string, unknown> {
    this.onFail(msg, err);
    // a handler that returns leaves no result to speak of
    throw new Error(msg);
  }
}

/** A builder over `args`, as `yargs(args)` is. */
export default function yargs(args: readonly string[]): Argv {
  return new Argv(args);
}
