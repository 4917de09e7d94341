#!/usr/bin/env node
// `npm start` without Electron: the app's engine with its UI in the browser (through tsx).
import { register } from 'tsx/esm/api';

register();
await import('../headless/browser-app.ts');
