#!/usr/bin/env node
// `npm run kuik -- …`: the CLI lives in cli/ (cli/main.ts); this path stays for existing habits.
import '../cli/main.ts';
