/** The block-quantized tensor types nines reads, writes and computes with. */
export const blockTensorTypes = ['Q4_0', 'Q5_0', 'Q8_0', 'Q4_K', 'Q6_K'] as const;
export type BlockTensorType = (typeof blockTensorTypes)[number];

export function isBlockTensorType(type: string): type is BlockTensorType {
  return (blockTensorTypes as readonly string[]).includes(type);
}
