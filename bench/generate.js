// Writes a realistic contact file of N rows (CSV or JSONL) without holding it in memory.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const FIRST = ['Maria', 'James', 'Aisha', 'Chen', 'Olivia', 'Diego', 'Fatima', 'Noah', 'Priya', 'Liam'];
const LAST = ['Garcia', 'Smith', 'Okafor', 'Nguyen', 'Johnson', 'Patel', 'Kim', 'Rossi'];
const CITIES = [['Portland', 'OR', '97201'], ['Austin', 'TX', '78701'], ['Denver', 'CO', '80202'], ['Boston', 'MA', '02108']];
export const HEADER = ['Email', 'First Name', 'Last Name', 'Address 1', 'City', 'State', 'Zip', 'Phone', 'Date of Birth'];

/** The email of generated row i. */
export function generatedEmail(i) {
  return row(i)[0];
}

function row(i) {
  const f = FIRST[i % FIRST.length];
  const l = LAST[(i * 7) % LAST.length];
  const [city, state, zip] = CITIES[i % CITIES.length];
  return [`${f}.${l}.${i}@example.org`.toLowerCase(), f, l, `${100 + (i % 9000)} Main St`, city, state, zip, `(555) 555-${String(1000 + (i % 9000))}`, `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 9}`];
}

/** `withStatus`: an Email Status column (OPT_IN), as a sign-up or consent export has. */
export async function generate(path, n, format = 'csv', { withStatus = false } = {}) {
  const header = withStatus ? [...HEADER, 'Email Status'] : HEADER;
  const out = createWriteStream(path);
  const write = async (s) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  if (format === 'csv') await write(header.join(',') + '\n');
  let buf = '';
  for (let i = 0; i < n; i++) {
    const r = withStatus ? [...row(i), 'OPT_IN'] : row(i);
    buf += format === 'csv' ? r.join(',') + '\n' : JSON.stringify(Object.fromEntries(header.map((h, j) => [h, r[j]]))) + '\n';
    if (buf.length > 1 << 16) {
      await write(buf);
      buf = '';
    }
  }
  await write(buf);
  out.end();
  await once(out, 'finish');
}
