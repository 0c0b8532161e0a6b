// render.js turns godog's Cucumber JSON (-godog.format=cucumber:FILE) into
// the features' web page with multiple-cucumber-html-reporter: an index of
// every feature with its scenarios passed and failed, and a page a feature
// with every scenario and step, its result and its time. Nothing here
// renders; the reporter does, with its own assets beside the page, so the
// page needs no network.
//
//   node render.js JSON_DIR REPORT_DIR
'use strict';
const reporter = require('multiple-cucumber-html-reporter');

const [jsonDir, reportPath] = process.argv.slice(2);
if (!jsonDir || !reportPath) {
  console.error('usage: node render.js JSON_DIR REPORT_DIR');
  process.exit(2);
}
reporter.generate({
  jsonDir,
  reportPath,
  pageTitle: 'echospec: the features',
  reportName: 'echospec: the features',
  displayDuration: true,
  hideMetadata: true,
  disableLog: true,
});
