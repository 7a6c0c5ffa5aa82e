// One temporary folder for a whole jest run: every synthesis writes its cloud assembly (tens of MB,
// the Flink application among its assets) under os.tmpdir(), and a run synthesizes the platform
// dozens of times. globalSetup points TMPDIR at a folder of the run, which the workers inherit;
// globalTeardown removes it, so no run leaves its gigabytes behind.
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports.setup = async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tlh-jest-'));
  process.env.TLH_JEST_TMP = root;
  process.env.TMPDIR = root;
};

module.exports.teardown = async () => {
  const root = process.env.TLH_JEST_TMP;
  if (root && path.basename(root).startsWith('tlh-jest-')) fs.rmSync(root, { recursive: true, force: true });
};
