using static TorchSharp.torch;

namespace MLNetForgetting.Text;

/// <summary>Token-id sequences padded to the longest one, as (B, T) long tensors for the encoder.</summary>
internal static class PaddedBatch
{
    /// <summary>Input ids (padded with <paramref name="padId"/>) and the attention mask (1 for real tokens).</summary>
    public static (Tensor InputIds, Tensor AttentionMask) Create(IReadOnlyList<int[]> sequences, int padId, Device? device = null)
    {
        if (sequences.Count == 0) throw new ArgumentException("A batch needs at least one sequence.", nameof(sequences));
        int t = Math.Max(1, sequences.Max(s => s.Length));
        var ids = new long[sequences.Count * t];
        var mask = new long[sequences.Count * t];
        Array.Fill(ids, padId);
        for (int i = 0; i < sequences.Count; i++)
            for (int j = 0; j < sequences[i].Length; j++)
            {
                ids[i * t + j] = sequences[i][j];
                mask[i * t + j] = 1;
            }
        var idTensor = tensor(ids, new long[] { sequences.Count, t }, device: device);
        var maskTensor = tensor(mask, new long[] { sequences.Count, t }, device: device);
        return (idTensor, maskTensor);
    }
}
