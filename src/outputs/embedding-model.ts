import { invalid } from '../private/validation';

/** A Bedrock text embedding model and the length of its vectors. */
export class EmbeddingModel {
  /**
   * Amazon Titan Text Embeddings V2 (`amazon.titan-embed-text-v2:0`), normalized vectors.
   * @param dimension 256, 512 or 1024
   * @default 1024
   */
  public static titanTextV2(dimension: number = 1024): EmbeddingModel {
    if (![256, 512, 1024].includes(dimension)) {
      invalid('EmbeddingModel.titanTextV2', `\`dimension\` must be 256, 512 or 1024 (the sizes Titan Text Embeddings V2 offers), got: ${dimension}.`);
    }
    return new EmbeddingModel('amazon.titan-embed-text-v2:0', dimension);
  }

  /** Amazon Titan Embeddings G1 - Text (`amazon.titan-embed-text-v1`), 1536 dimensions. */
  public static titanTextV1(): EmbeddingModel {
    return new EmbeddingModel('amazon.titan-embed-text-v1', 1536);
  }

  private constructor(
    /** The foundation model id. */
    public readonly modelId: string,
    /** The length of its vectors (the index field's dimension). */
    public readonly dimension: number,
  ) {}
}
