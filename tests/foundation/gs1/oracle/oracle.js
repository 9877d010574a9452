// Runs GS1's Digital Link toolkit over a batch of cases read as JSON from standard input and writes its answers as
// JSON: the tests compare them with foundation.gs1. Every case gets an answer: {ok: ...} or {error: "..."}.
'use strict';
const Toolkit = require('digital-link.js/lib/GS1DigitalLinkCompressionPrototype/GS1DigitalLinkToolkit');
const { DigitalLink } = require('digital-link.js');

const toolkit = new Toolkit();
const attempt = (fn) => {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
};
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const output = {
  // URI -> the GS1 element strings and other parameters the toolkit reads from it
  extract: (input.extract || []).map((uri) => attempt(() => toolkit.extractFromGS1digitalLink(uri))),
  // URI -> whether digital-link.js's ABNF grammar (GS1 Digital Link grammar) accepts it
  grammar: (input.grammar || []).map((uri) => attempt(() => DigitalLink(uri).isValid())),
  // [element strings as {ai: value}, stem] -> the URI the toolkit builds
  build: (input.build || []).map(([ais, stem]) => attempt(() => toolkit.buildGS1digitalLink(ais, false, stem, {}))),
  // [ai, value] -> the check digit verdict
  check: (input.check || []).map(([ai, value]) => attempt(() => toolkit.verifyCheckDigit(ai, value))),
  // [URI, stem, pack other parameters too] -> the compressed URI
  compress: (input.compress || []).map(([uri, stem, other]) =>
    attempt(() => toolkit.compressGS1DigitalLink(uri, false, stem, false, true, Boolean(other)))),
  decompress: (input.decompress || []).map(([uri, stem]) =>
    attempt(() => toolkit.decompressGS1DigitalLink(uri, false, stem))),
};
process.stdout.write(JSON.stringify(output));
