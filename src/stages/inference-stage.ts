import { Construct } from 'constructs';
import { BedrockStage, BedrockStageProps } from './bedrock/bedrock-stage';
import { ComprehendStage, ComprehendStageProps } from './comprehend/comprehend-stage';
import { HttpStage, HttpStageProps } from './http/http-stage';
import { LambdaStage, LambdaStageProps } from './lambda/lambda-stage';
import { SageMakerEndpointStage, SageMakerEndpointStageProps } from './sagemaker/sagemaker-stage';
import { TextractAnalysisStage, TextractAnalysisStageProps } from './textract/textract-analysis-stage';
import { TextractStage, TextractStageProps } from './textract/textract-stage';
import { TranscribeStage, TranscribeStageProps } from './transcribe/transcribe-stage';
import { TranslateStage, TranslateStageProps } from './translate/translate-stage';

export * from './inference-stage-base';

/**
 * Makes stages, one factory per kind: `InferenceStage.textract(...)`, `InferenceStage.textractAnalysis(...)`, `InferenceStage.bedrock(...)`,
 * `InferenceStage.sagemakerEndpoint(...)`, `InferenceStage.lambda(...)`, `InferenceStage.comprehend(...)`,
 * `InferenceStage.translate(...)`, `InferenceStage.http(...)`, `InferenceStage.transcribe(...)`. No stage kind inherits these
 * (the kinds extend `InferenceStageBase`), so each factory appears once in every language.
 */
export class InferenceStage {
  /**
   * Text detection with Amazon Textract: the synchronous API for single-page documents, an
   * asynchronous job (resumed by a task token) for multi-page ones, chosen from the page count the
   * preflight finds. Output: `{ text: <S3 pointer>, pages }`.
   */
  public static textract(scope: Construct, id: string, props: TextractStageProps = {}): TextractStage {
    return new TextractStage(scope, id, props);
  }

  /**
   * Document analysis with Amazon Textract: forms (key-value pairs), tables, queries (answers by
   * alias) and signatures; the synchronous API for single-page documents, an asynchronous job
   * (resumed by a task token) for multi-page ones. Output: `{ text, pages, analysis, keyValues,
   * keyValueCount, tableCount, queryAnswers }`.
   */
  public static textractAnalysis(scope: Construct, id: string, props: TextractAnalysisStageProps = {}): TextractAnalysisStage {
    return new TextractAnalysisStage(scope, id, props);
  }

  /** A model on Amazon Bedrock (Converse API), prompted from a versioned template, replying in JSON. */
  public static bedrock(scope: Construct, id: string, props: BedrockStageProps): BedrockStage {
    return new BedrockStage(scope, id, props);
  }

  /** An Amazon SageMaker real-time endpoint, called with JSON and answering JSON. */
  public static sagemakerEndpoint(scope: Construct, id: string, props: SageMakerEndpointStageProps): SageMakerEndpointStage {
    return new SageMakerEndpointStage(scope, id, props);
  }

  /** A Lambda function of your own, called with `{ document, results, runId }`. */
  public static lambda(scope: Construct, id: string, props: LambdaStageProps): LambdaStage {
    return new LambdaStage(scope, id, props);
  }

  /**
   * Amazon Comprehend over an earlier stage's text: dominant language, sentiment, entities, PII
   * (optionally redacted into a new text pointer).
   */
  public static comprehend(scope: Construct, id: string, props: ComprehendStageProps = {}): ComprehendStage {
    return new ComprehendStage(scope, id, props);
  }

  /**
   * Speech to text with Amazon Transcribe: the uploaded recording in, its transcript as a text pointer
   * out (an asynchronous job whose completion event resumes the run through a task token).
   */
  public static transcribe(scope: Construct, id: string, props: TranscribeStageProps = {}): TranscribeStage {
    return new TranscribeStage(scope, id, props);
  }

  /** Amazon Translate: an earlier stage's text in, a translated text pointer out. */
  public static translate(scope: Construct, id: string, props: TranslateStageProps): TranslateStage {
    return new TranslateStage(scope, id, props);
  }

  /**
   * An external HTTP API through the Step Functions HTTP task and an EventBridge connection (the
   * credentials stay in Secrets Manager); the JSON answer is checked against `output`.
   */
  public static http(scope: Construct, id: string, props: HttpStageProps): HttpStage {
    return new HttpStage(scope, id, props);
  }

  private constructor() {}
}
