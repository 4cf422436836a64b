// Prints the attack suite's accounting after a run that included it: every test of test/attacks is
// one attack input, and it passes only when the attack was refused exactly as the reference says.
import { sep } from 'node:path';

const ATTACKS = `${sep}test${sep}attacks${sep}`;

export default class AttackSummaryReporter {
  onRunComplete(_contexts, results) {
    const files = results.testResults.filter((file) => file.testFilePath.includes(ATTACKS));
    if (files.length === 0) return;
    let tried = 0;
    let refused = 0;
    for (const file of files) {
      for (const test of file.testResults) {
        if (test.status !== 'passed' && test.status !== 'failed') continue;
        tried += 1;
        // A failed afterAll (the final log sweep) fails the whole file's accounting.
        if (test.status === 'passed' && !file.testExecError) refused += 1;
      }
      // A file that could not run at all still tried its attacks: count them as not refused.
      if (file.testResults.length === 0 && file.testExecError) tried += 1;
    }
    process.stderr.write(`\nattacks: ${tried} tried, ${refused} refused as specified\n`);
  }
}
