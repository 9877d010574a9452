// SM2 with SM3 by sm-crypto (npm; an implementation of GB/T 32918 independent of the gmssl this node uses), as a
// JavaScript IDIS client would run it: the user id is the default 1234567812345678, signatures are DER.
//   node sm2_verify.js verify  < [{message, signature (hex), publicKey (hex 04‖x‖y)}]  → [true|false, …]
//   node sm2_verify.js sign    < [{message, privateKey (hex)}]                         → [signature (hex), …]
const { sm2 } = require('sm-crypto');
const options = { der: true, hash: true };
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const items = JSON.parse(input);
  const results = process.argv[2] === 'sign'
    ? items.map((i) => sm2.doSignature(i.message, i.privateKey, options))
    : items.map((i) => sm2.doVerifySignature(i.message, i.signature, i.publicKey, options));
  process.stdout.write(JSON.stringify(results));
});
