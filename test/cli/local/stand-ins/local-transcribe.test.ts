import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GetTranscriptionJobCommand, StartTranscriptionJobCommand } from '@aws-sdk/client-transcribe';
import { wavFile } from '../../../../projenrc/make-call-center-samples';
import { LocalS3 } from '../../../../src/cli/local/adapters/local-s3';
import { LocalTranscribe, wavComment } from '../../../../src/cli/local/stand-ins/local-transcribe';

function setup() {
  const s3 = new LocalS3(fs.mkdtempSync(path.join(os.tmpdir(), 'local-transcribe-')));
  return { s3, transcribe: new LocalTranscribe(s3) };
}

const start = (name: string, key: string) => new StartTranscriptionJobCommand({
  TranscriptionJobName: name, LanguageCode: 'en-US', Media: { MediaFileUri: `s3://calls/${key}` }, OutputBucketName: 'work', OutputKey: `stages/T/${name}.json`,
});

test('the WAV\'s ICMT field is the transcript, written in Transcribe\'s result shape, and the job event is queued', async () => {
  const { s3, transcribe } = setup();
  await s3.putObject('calls', 'a.wav', wavFile('a', 1, 'Hello, I need help with my bill.'));
  await transcribe.send(start('job-1', 'a.wav'));
  expect(s3.getJson('work', 'stages/T/job-1.json').results.transcripts).toEqual([{ transcript: 'Hello, I need help with my bill.' }]);
  expect(transcribe.takeEvents()).toEqual([{
    'source': 'aws.transcribe', 'detail-type': 'Transcribe Job State Change', 'detail': { TranscriptionJobName: 'job-1', TranscriptionJobStatus: 'COMPLETED' },
  }]);
  expect(transcribe.takeEvents()).toEqual([]);
  const got = await transcribe.send(new GetTranscriptionJobCommand({ TranscriptionJobName: 'job-1' }));
  expect(got.TranscriptionJob).toEqual(expect.objectContaining({ TranscriptionJobStatus: 'COMPLETED', LanguageCode: 'en-US' }));
});

test('a job name used twice is a ConflictException, as in Transcribe', async () => {
  const { s3, transcribe } = setup();
  await s3.putObject('calls', 'a.wav', wavFile('a', 1, 'Hi.'));
  await transcribe.send(start('job-1', 'a.wav'));
  await expect(transcribe.send(start('job-1', 'a.wav'))).rejects.toMatchObject({ name: 'ConflictException', $metadata: { httpStatusCode: 409 } });
});

test('a WAV without ICMT is silence; another container ends its job FAILED, naming what the stand-in reads', async () => {
  const { s3, transcribe } = setup();
  expect(wavComment(wavFile('quiet', 1))).toBe('');
  expect(wavComment(Buffer.from('ID3\x04\0\0\0\0\0\0', 'latin1'))).toBeUndefined();
  await s3.putObject('calls', 'b.mp3', Buffer.from('ID3\x04\0\0\0\0\0\0', 'latin1'));
  await transcribe.send(start('job-2', 'b.mp3'));
  const [event] = transcribe.takeEvents();
  expect(event.detail).toEqual(expect.objectContaining({ TranscriptionJobStatus: 'FAILED', FailureReason: expect.stringContaining('reads only WAV recordings') }));
  expect(s3.exists('work', 'stages/T/job-2.json')).toBe(false);
});
