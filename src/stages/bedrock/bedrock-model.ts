import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** Options of a cross-region inference profile. */
export interface InferenceProfileOptions {
  /**
   * The regions the profile routes requests to: the role may invoke the foundation model in exactly these.
   * @default - for `us.` profiles us-east-1, us-east-2, us-west-2; for `eu.` eu-central-1, eu-west-1,
   * eu-west-3, eu-north-1; for `apac.` ap-northeast-1, ap-northeast-2, ap-south-1, ap-southeast-1,
   * ap-southeast-2; for `global.` any commercial region (the model's region-less ARN)
   */
  readonly regions?: string[];
}

const GEO_REGIONS: { [geo: string]: string[] } = {
  us: ['us-east-1', 'us-east-2', 'us-west-2'],
  eu: ['eu-central-1', 'eu-west-1', 'eu-west-3', 'eu-north-1'],
  apac: ['ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2'],
};

const MODEL_ID = /^[a-z0-9-]+\.[A-Za-z0-9.:_-]+$/;

/**
 * The Bedrock model a stage calls: a foundation model in the stack's region, or a cross-region
 * inference profile. It knows the exact ARNs the stage's role may invoke.
 */
export class BedrockModel {
  /**
   * A foundation model in the stack's region, e.g. `anthropic.claude-3-5-haiku-20241022-v1:0`.
   */
  public static foundationModel(modelId: string): BedrockModel {
    checkId('BedrockModel.foundationModel', modelId);
    return new BedrockModel(modelId, (scope) => [foundationModelArn(scope, Stack.of(scope).region, modelId)]);
  }

  /**
   * A system-defined cross-region inference profile, e.g. `us.anthropic.claude-3-5-haiku-20241022-v1:0`.
   * The role may invoke the profile and the foundation model in the profile's regions.
   */
  public static inferenceProfile(profileId: string, options: InferenceProfileOptions = {}): BedrockModel {
    checkId('BedrockModel.inferenceProfile', profileId);
    const dot = profileId.indexOf('.');
    const geo = profileId.slice(0, dot);
    const modelId = profileId.slice(dot + 1);
    const regions = options.regions ?? GEO_REGIONS[geo];
    if (geo !== 'global' && (!regions || regions.length === 0)) {
      throw new Error(`BedrockModel.inferenceProfile: no default regions for the profile prefix '${geo}' in '${profileId}'. Pass \`regions\` with the regions the profile routes to.`);
    }
    return new BedrockModel(profileId, (scope) => {
      const stack = Stack.of(scope);
      const profileArn = Arn.format({ service: 'bedrock', resource: 'inference-profile', resourceName: profileId, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack);
      const models = geo === 'global' && !options.regions
        ? [foundationModelArn(scope, '', modelId)]
        : regions!.map((r) => foundationModelArn(scope, r, modelId));
      return [profileArn, ...models];
    });
  }

  /** The id passed to Converse as `modelId`. */
  public readonly modelId: string;
  private readonly arns: (scope: Construct) => string[];

  private constructor(modelId: string, arns: (scope: Construct) => string[]) {
    this.modelId = modelId;
    this.arns = arns;
  }

  /** The exact ARNs `bedrock:InvokeModel` is granted on. */
  public resourceArns(scope: Construct): string[] {
    return this.arns(scope);
  }
}

function foundationModelArn(scope: Construct, region: string, modelId: string): string {
  return `arn:${Stack.of(scope).partition}:bedrock:${region}::foundation-model/${modelId}`;
}

function checkId(where: string, id: string) {
  if (Token.isUnresolved(id)) return;
  if (!MODEL_ID.test(id)) {
    throw new Error(`${where}: '${id}' is not a Bedrock model or profile id (provider.model[:version], e.g. 'anthropic.claude-3-5-haiku-20241022-v1:0'). Pass the id shown in the Bedrock console.`);
  }
}
