/**
 * Text from the user's file (a header, a value in a message) made safe to print on a terminal: control characters
 * other than newline and tab, DEL, C1 controls and the bidirectional overrides are shown as \xNN / \u{NNNN}, so a
 * header holding ESC[2J cannot clear the screen or hide what follows it.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
