// Entry of the `peerpbx` command (src/main/bin/peerpbx.js loads this file through tsx).
import { main } from './program.ts';

process.exit(await main(process.argv));
