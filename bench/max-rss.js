// Loaded with `node --import ./bench/max-rss.js`: prints the process's peak resident set size when it exits.
process.on('exit', () => {
  process.stderr.write(`\nBENCH_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
