/**
 * The Parse stage of the fraud-screening example: reads the transaction (a JSON document) the API
 * trigger started the run for and returns its fields inline, so the gate's rules and the model can
 * read them. It converts nothing and guesses nothing: the stage's output contract decides what a
 * valid transaction is (a field of the wrong type or a missing one fails the run with
 * Contract.OutputViolation, the document kept and audited).
 */
const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3');

const s3 = new S3Client({});
const FIELDS = ['transactionId', 'amount', 'currency', 'country', 'cardBin', 'merchantCategory', 'cardPresent', 'transactions24h'];

exports.handler = async (event) => {
  const { bucket, key, versionId } = event.document;
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  let transaction;
  try {
    transaction = JSON.parse(await object.Body.transformToString('utf-8'));
  } catch {
    const err = new Error(`${key} is not a JSON document`);
    err.name = 'Document.Corrupt';
    throw err;
  }
  const out = {};
  for (const field of FIELDS) {
    if (transaction[field] !== undefined) out[field] = transaction[field];
  }
  return out;
};
