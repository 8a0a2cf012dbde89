import * as path from 'path';
import { Construct } from 'constructs';
import { OpenSearchResultOutput, OpenSearchResultOutputProps } from './opensearch-result-output';
import { S3ResultOutput, S3ResultOutputProps } from './s3-result-output';
import { SqsResultOutput, SqsResultOutputProps } from './sqs-result-output';

/**
 * Makes output steps, which run after routing and before the run record (pass them as a Pipeline's
 * `outputs`): `ResultOutput.s3(...)` writes the run's result document to S3, `ResultOutput.openSearch(...)`
 * indexes it. No output kind inherits this factory.
 */
export class ResultOutput {
  /** The JSON Schema (draft 2020-12) of the result document, shipped in the package. */
  public static readonly RESULT_DOCUMENT_SCHEMA_FILE: string = path.join(__dirname, 'result-document.schema.json');

  /** Writes each run's result document to S3 under a results prefix. */
  public static s3(scope: Construct, id: string, props: S3ResultOutputProps = {}): S3ResultOutput {
    return new S3ResultOutput(scope, id, props);
  }

  /** Indexes each run's result in OpenSearch (a new Serverless collection, or a domain you pass). */
  public static openSearch(scope: Construct, id: string, props: OpenSearchResultOutputProps): OpenSearchResultOutput {
    return new OpenSearchResultOutput(scope, id, props);
  }

  /** Sends each run's result document, or one (approved) field of it, to an SQS queue. */
  public static sqs(scope: Construct, id: string, props: SqsResultOutputProps = {}): SqsResultOutput {
    return new SqsResultOutput(scope, id, props);
  }

  private constructor() {}
}
