// The table of command modules: each registers exactly the top-level commands it is listed with, so
// that a run loading only the module its command names finds that command, and every other run
// loads all of them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { COMMAND_MODULES, commandModulesFor } from './command-modules.ts';

describe('command modules', () => {
  for (const module of COMMAND_MODULES) {
    it(`${module.names.join(', ')}: registers exactly these top-level commands`, async () => {
      const program = new Command('airlock');
      (await module.load())(program);
      assert.deepEqual(
        program.commands.map((c) => c.name()),
        module.names,
      );
    });
  }

  it('names each command once', () => {
    const names = COMMAND_MODULES.flatMap((m) => m.names);
    assert.equal(new Set(names).size, names.length);
  });

  it("loads only the module of the command argv names, else all of them, in the table's order", () => {
    const argv = (...args: string[]) => ['node', 'airlock', ...args];
    assert.deepEqual(commandModulesFor(argv('bypass-codes', 'alice')), [
      COMMAND_MODULES.find((m) => m.names.includes('bypass-codes')),
    ]);
    assert.deepEqual(commandModulesFor(argv('user', 'create', 'alice', '--help')), [
      COMMAND_MODULES.find((m) => m.names.includes('user')),
    ]);
    for (const args of [
      [],
      ['--help'],
      ['-V'],
      ['help', 'user'],
      ['usr', 'list'],
      ['-h', 'user'],
    ]) {
      assert.equal(commandModulesFor(argv(...args)), COMMAND_MODULES, args.join(' '));
    }
  });
});
