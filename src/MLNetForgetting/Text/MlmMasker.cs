using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Text;

/// <summary>
/// A padded masked-language-model batch. All tensors are (B, T) int64 on the requested device, where
/// T is the longest sequence in the batch. Dispose it to free the tensors.
/// </summary>
internal sealed class MlmBatch : IDisposable
{
    internal MlmBatch(Tensor inputIds, Tensor attentionMask, Tensor labels, int tokenCount, int maskedCount)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        Labels = labels;
        TokenCount = tokenCount;
        MaskedCount = maskedCount;
    }

    /// <summary>Token ids after masking; padding positions hold the pad id.</summary>
    public Tensor InputIds { get; }
    /// <summary>1 for real tokens, 0 for padding.</summary>
    public Tensor AttentionMask { get; }
    /// <summary>The original id where a token was selected for prediction, -100 everywhere else.</summary>
    public Tensor Labels { get; }
    /// <summary>Number of non-padding tokens.</summary>
    public int TokenCount { get; }
    /// <summary>Number of positions with a label (selected for prediction).</summary>
    public int MaskedCount { get; }

    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        Labels.Dispose();
    }
}

/// <summary>
/// BERT/RoBERTa dynamic masking: each non-special token is selected with probability
/// <c>maskProbability</c>; a selected token becomes the mask id with probability
/// <c>maskTokenFraction</c>, a random non-special id with probability <c>randomTokenFraction</c>, and
/// stays unchanged otherwise. Special tokens (including padding) are never selected, and random
/// replacements never draw a special id. Given the same <see cref="Random"/> state the batch is identical.
/// </summary>
internal sealed class MlmMasker
{
    /// <summary>Label value for positions that are not predicted (PyTorch's cross-entropy ignore index).</summary>
    public const long IgnoreIndex = -100;

    private readonly int _maskId;
    private readonly int _padId;
    private readonly bool[] _isSpecial;
    private readonly int[] _replacementIds;
    private readonly double _maskProbability;
    private readonly double _maskTokenFraction;
    private readonly double _randomTokenFraction;

    /// <summary>Creates a masker for a vocabulary.</summary>
    /// <param name="vocabSize">Ids are in [0, vocabSize).</param>
    /// <param name="maskId">Id written at masked positions.</param>
    /// <param name="padId">Id written at padding positions.</param>
    /// <param name="specialIds">Ids never masked nor drawn as random replacements (mask and pad are added to them).</param>
    /// <param name="maskProbability">Chance a non-special token is selected (0.15 in BERT/RoBERTa).</param>
    /// <param name="maskTokenFraction">Of the selected, the fraction replaced by the mask id (0.8).</param>
    /// <param name="randomTokenFraction">Of the selected, the fraction replaced by a random id (0.1).</param>
    public MlmMasker(int vocabSize, int maskId, int padId, IReadOnlySet<int> specialIds,
        double maskProbability = 0.15, double maskTokenFraction = 0.8, double randomTokenFraction = 0.1)
    {
        ArgumentNullException.ThrowIfNull(specialIds);
        if (vocabSize <= 0) throw new ArgumentOutOfRangeException(nameof(vocabSize));
        if ((uint)maskId >= (uint)vocabSize) throw new ArgumentOutOfRangeException(nameof(maskId));
        if ((uint)padId >= (uint)vocabSize) throw new ArgumentOutOfRangeException(nameof(padId));
        if (maskProbability is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(maskProbability));
        if (maskTokenFraction < 0 || randomTokenFraction < 0 || maskTokenFraction + randomTokenFraction > 1 + 1e-12)
            throw new ArgumentOutOfRangeException(nameof(maskTokenFraction), "maskTokenFraction and randomTokenFraction must be non-negative and sum to at most 1.");

        _maskId = maskId;
        _padId = padId;
        _isSpecial = new bool[vocabSize];
        foreach (int id in specialIds)
        {
            if ((uint)id < (uint)vocabSize) _isSpecial[id] = true;
        }
        _isSpecial[maskId] = true;
        _isSpecial[padId] = true;
        _replacementIds = Enumerable.Range(0, vocabSize).Where(id => !_isSpecial[id]).ToArray();
        if (randomTokenFraction > 0 && _replacementIds.Length == 0) throw new ArgumentException("No non-special id is available for random replacement.", nameof(specialIds));
        _maskProbability = maskProbability;
        _maskTokenFraction = maskTokenFraction;
        _randomTokenFraction = randomTokenFraction;
    }

    /// <summary>
    /// If a whole batch would get no selected position (possible for short batches), select one
    /// eligible position uniformly so the MLM loss is defined. On by default.
    /// </summary>
    public bool EnsureAtLeastOnePrediction { get; init; } = true;

    /// <summary>Masks and pads <paramref name="sequences"/> (already encoded, with their special tokens).</summary>
    /// <param name="sequences">One id array per row; not modified.</param>
    /// <param name="rng">Source of all random choices, consumed in row-major order.</param>
    /// <param name="device">Where the tensors are created (CPU if null).</param>
    public MlmBatch Mask(IReadOnlyList<int[]> sequences, Random rng, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(rng);
        if (sequences.Count == 0) throw new ArgumentException("A batch needs at least one sequence.", nameof(sequences));

        int rows = sequences.Count;
        int width = 0;
        foreach (int[] s in sequences)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(sequences));
            width = Math.Max(width, s.Length);
        }
        if (width == 0) throw new ArgumentException("Every sequence in the batch is empty.", nameof(sequences));

        var inputs = new long[rows * width];
        var attention = new long[rows * width];
        var labels = new long[rows * width];
        Array.Fill(inputs, _padId);
        Array.Fill(labels, IgnoreIndex);

        int tokens = 0, masked = 0, eligible = 0;
        for (int r = 0; r < rows; r++)
        {
            int[] s = sequences[r];
            int offset = r * width;
            for (int t = 0; t < s.Length; t++)
            {
                int id = s[t];
                if ((uint)id >= (uint)_isSpecial.Length) throw new ArgumentOutOfRangeException(nameof(sequences), id, $"Token id outside the vocabulary (row {r}, position {t}).");
                inputs[offset + t] = id;
                attention[offset + t] = 1;
                tokens++;
                if (_isSpecial[id]) continue;
                eligible++;
                if (rng.NextDouble() < _maskProbability)
                {
                    Corrupt(inputs, labels, offset + t, id, rng);
                    masked++;
                }
            }
        }

        if (masked == 0 && eligible > 0 && EnsureAtLeastOnePrediction)
        {
            int pick = rng.Next(eligible);
            for (int i = 0; i < inputs.Length; i++)
            {
                if (attention[i] == 1 && !_isSpecial[inputs[i]] && pick-- == 0)
                {
                    Corrupt(inputs, labels, i, (int)inputs[i], rng);
                    masked = 1;
                    break;
                }
            }
        }

        long[] shape = [rows, width];
        Device target = device ?? CPU;
        return new MlmBatch(
            torch.tensor(inputs, shape, ScalarType.Int64, target),
            torch.tensor(attention, shape, ScalarType.Int64, target),
            torch.tensor(labels, shape, ScalarType.Int64, target),
            tokens, masked);
    }

    private void Corrupt(long[] inputs, long[] labels, int index, int original, Random rng)
    {
        labels[index] = original;
        double u = rng.NextDouble();
        if (u < _maskTokenFraction) inputs[index] = _maskId;
        else if (u < _maskTokenFraction + _randomTokenFraction) inputs[index] = _replacementIds[rng.Next(_replacementIds.Length)];
        // else: keep the original token (still predicted).
    }
}
