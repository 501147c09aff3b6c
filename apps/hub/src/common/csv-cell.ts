/**
 * What makes a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a formula: `=`, `+`, `-`, `@`,
 * and tab or carriage return before one of them (OWASP, "CSV Injection").
 */
const FORMULA_START = /^[=+\-@\t\r]/;
/** RFC 4180 §2: a field holding a comma, a double quote or a line break is enclosed in double quotes. */
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV field for text a user or device chose (device names, metric names). A value a spreadsheet would run
 * as a formula (`=HYPERLINK(…)`, `+cmd|' /C calc'!A0`) is prefixed with a single quote, which spreadsheets
 * show as text, and quoted, as OWASP advises. Numbers and times the hub writes itself never go through here,
 * so a negative reading stays a number.
 */
export function csvCell(value: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return text !== value || NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
