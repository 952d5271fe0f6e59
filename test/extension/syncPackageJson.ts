// Rewrites package.json's `mic` debugger launch attributes, initial configurations and snippets
// from the code (LAUNCH_ATTRIBUTES and model/launchConfigurations.ts), leaving every other key
// as it is. Run it after changing a launch attribute; packageJson.test.ts checks they agree:
//   node --import tsx test/extension/syncPackageJson.ts   (from the repository root)

import { readFileSync, writeFileSync } from 'node:fs';
import { LAUNCH_ATTRIBUTES } from '../../src/debugAdapter/launchConfig.ts';
import {
  CONFIGURATION_SNIPPETS,
  INITIAL_CONFIGURATIONS,
} from '../../src/extension/model/launchConfigurations.ts';

const file = 'package.json'; // run from the repository root, as npm scripts and the tests do
const pkg = JSON.parse(readFileSync(file, 'utf8'));
const mic = pkg.contributes.debuggers.find((d: { type: string }) => d.type === 'mic');
mic.configurationAttributes = { launch: { properties: LAUNCH_ATTRIBUTES } };
mic.initialConfigurations = INITIAL_CONFIGURATIONS;
mic.configurationSnippets = CONFIGURATION_SNIPPETS;
writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
console.log('package.json: mic launch attributes, initial configurations and snippets written');
