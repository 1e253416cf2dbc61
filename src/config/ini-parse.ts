// INI text -> ordered sections, with Python ConfigParser's semantics as Duo's authproxy.cfg uses them.
//
// Deliberately not the npm `ini` package: it treats `;` and `#` inside a value as the start of a
// comment, so `radius_secret_1=pa;ss#word` would become `pa` (STACK.md §0.11). ConfigParser (and so
// Duo's proxy) only knows whole-line comments, and so do we.

export interface IniEntry {
  /** Lower-cased, trimmed key (ConfigParser's `optionxform`). */
  readonly key: string;
  /** Trimmed value; continuation lines are joined with `\n`. May be empty. */
  readonly value: string;
  /** 1-based line of the `key = value` line. */
  readonly line: number;
}

export interface IniSection {
  /** The name between the brackets, as written (section names keep their case). */
  readonly name: string;
  /** 1-based line of the `[name]` header. */
  readonly line: number;
  /** Entries in file order; keys are unique within a section. */
  readonly entries: readonly IniEntry[];
}

export interface IniSyntaxError {
  readonly line: number;
  /** What is wrong, without quoting the line: a stray line may hold a secret. */
  readonly message: string;
}

export interface IniDocument {
  /** Sections in file order; names are unique. */
  readonly sections: readonly IniSection[];
  /** Every syntax problem found, in line order; empty when the text is well formed. */
  readonly errors: readonly IniSyntaxError[];
}

/** `line N: message`, the form syntax errors are reported in. */
export function formatIniError(error: IniSyntaxError): string {
  return `line ${error.line}: ${error.message}`;
}

interface MutableEntry {
  key: string;
  parts: string[];
  line: number;
}

interface MutableSection {
  name: string;
  line: number;
  entries: MutableEntry[];
}

/**
 * Parses authproxy.cfg-style INI text. Pure: string in, sections and errors out; it never throws.
 *
 * - `[section]` headers; `key = value` or `key: value` (the first `=` or `:` splits).
 * - Comments are whole lines starting with `#` or `;` after optional whitespace; never inline.
 * - Keys are lower-cased; keys and values are trimmed; an empty value is allowed.
 * - A line indented deeper than its key line continues the value (joined with `\n`); blank lines
 *   inside such a value are kept, trailing ones dropped (ConfigParser's `empty_lines_in_values`).
 * - Duplicate sections, duplicate keys in a section, keys before any section and lines that are
 *   neither header nor key are errors with their line number; parsing continues past each.
 * - A leading BOM and CRLF / CR line ends are accepted.
 */
export function parseIni(text: string): IniDocument {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const sections: MutableSection[] = [];
  const errors: IniSyntaxError[] = [];
  let section: MutableSection | undefined;
  // The section being skipped because it duplicates an earlier one: its keys are not checked.
  let skipping = false;
  let entry: MutableEntry | undefined;
  let indentLevel = Infinity;
  let pendingBlank = 0;
  let reportedOrphan = false;

  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const value = raw.trim();
    if (value.startsWith('#') || value.startsWith(';')) return; // whole-line comment
    if (value === '') {
      // Held back: it belongs to the value only if a continuation line follows.
      if (entry) pendingBlank++;
      return;
    }
    const indent = raw.length - raw.trimStart().length;
    if (entry && indent > indentLevel) {
      for (; pendingBlank > 0; pendingBlank--) entry.parts.push('');
      entry.parts.push(value);
      return;
    }
    pendingBlank = 0;
    entry = undefined;
    indentLevel = indent;

    const header = /^\[(.*)\]$/.exec(value);
    if (header) {
      const name = (header[1] ?? '').trim();
      if (name === '') {
        errors.push({ line: lineNo, message: 'empty section name' });
        section = undefined;
        skipping = true;
        return;
      }
      const earlier = sections.find((s) => s.name === name);
      if (earlier) {
        errors.push({
          line: lineNo,
          message: `duplicate section [${name}] (first at line ${earlier.line})`,
        });
        section = undefined;
        skipping = true;
        return;
      }
      section = { name, line: lineNo, entries: [] };
      sections.push(section);
      skipping = false;
      return;
    }
    if (value.startsWith('[')) {
      errors.push({
        line: lineNo,
        message: 'malformed section header: write [name] alone on the line (no inline comments)',
      });
      section = undefined;
      skipping = true;
      return;
    }

    const option = /^(.*?)\s*[=:]\s*(.*)$/.exec(value);
    if (!option) {
      errors.push({
        line: lineNo,
        message:
          'expected "key = value", "key: value" or "[section]" (continuation lines must be indented deeper than their key)',
      });
      return;
    }
    const key = (option[1] ?? '').trim().toLowerCase();
    // Created even when the line is refused, so that its continuation lines are consumed with it.
    entry = { key, parts: [(option[2] ?? '').trim()], line: lineNo };
    if (key === '') {
      errors.push({ line: lineNo, message: 'missing key before "=" or ":"' });
      return;
    }
    if (!section) {
      if (!skipping && !reportedOrphan) {
        errors.push({ line: lineNo, message: 'key before any [section] header' });
        reportedOrphan = true;
      }
      return;
    }
    const first = section.entries.find((e) => e.key === key);
    if (first) {
      errors.push({
        line: lineNo,
        message: `duplicate key ${key} in [${section.name}] (first at line ${first.line})`,
      });
      return;
    }
    section.entries.push(entry);
  });

  return {
    sections: sections.map((s) => ({
      name: s.name,
      line: s.line,
      entries: s.entries.map((e) => ({
        key: e.key,
        // Trimmed as a whole: `key =` followed by indented lines must not start with a newline.
        value: e.parts.join('\n').trim(),
        line: e.line,
      })),
    })),
    errors,
  };
}
