import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Where the library's functions run when they must stay off the internet: a VPC's private subnets,
 * reaching AWS services only through VPC endpoints. Set it as the Pipeline's `network` (every function
 * of the pipeline, its trigger, steps and outputs) or as a stand-alone stage's `standalone.network`.
 *
 * Every function gets the subnets and one security group that allows no traffic out but HTTPS (443)
 * to the endpoints' security group and to the S3 (and, when used, DynamoDB) gateway prefix lists. The
 * endpoints made are those the functions' roles may call, read from their IAM policies at synth.
 */
export interface PrivateNetworkOptions {
  /** The VPC the functions run in. */
  readonly vpc: ec2.IVpc;
  /**
   * The subnets the functions run in.
   * @default - the VPC's private isolated subnets (`SubnetType.PRIVATE_ISOLATED`)
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * Make the VPC endpoints the functions need (interface endpoints with private DNS behind a security
   * group that takes HTTPS from the functions only, and the S3 and DynamoDB gateway endpoints on the
   * subnets' route tables). Set `false` when the VPC already has them: the library then makes none and
   * checks nothing, and the functions' security group allows HTTPS out to the VPC's CIDR block (where
   * your interface endpoints are) and to the gateway prefix lists.
   * @default true
   */
  readonly createEndpoints?: boolean;
  /**
   * The id of the S3 managed prefix list of the Region (`com.amazonaws.<region>.s3`), which the
   * functions' security group may reach on 443.
   * @default - looked up by name at synth (needs the stack's account and Region; kept in cdk.context.json)
   */
  readonly s3PrefixListId?: string;
  /**
   * The id of the DynamoDB managed prefix list of the Region (`com.amazonaws.<region>.dynamodb`), used
   * only when a function may call DynamoDB.
   * @default - looked up by name at synth (needs the stack's account and Region; kept in cdk.context.json)
   */
  readonly dynamoDbPrefixListId?: string;
}
