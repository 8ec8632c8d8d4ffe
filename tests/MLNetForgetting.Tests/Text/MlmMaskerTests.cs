using MLNetForgetting.Text;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Text;

[TestClass]
public sealed class MlmMaskerTests
{
    private const int VocabSize = 1000;
    private static readonly HashSet<int> Specials = [SpecialTokens.BosId, SpecialTokens.PadId, SpecialTokens.EosId, SpecialTokens.UnkId, SpecialTokens.MaskId];

    private static List<int[]> RandomSequences(int count, int minLength, int maxLength, int vocabSize, int seed)
    {
        var rng = new Random(seed);
        var result = new List<int[]>();
        for (int i = 0; i < count; i++)
        {
            int length = rng.Next(minLength, maxLength + 1);
            var s = new int[length];
            s[0] = SpecialTokens.BosId;
            s[^1] = SpecialTokens.EosId;
            for (int t = 1; t < length - 1; t++) s[t] = rng.Next(5, vocabSize);
            result.Add(s);
        }
        return result;
    }

    private static long[] Values(Tensor t) => t.data<long>().ToArray();

    [TestMethod]
    public void SelectionAndReplacementRatesMatchBertWithinTolerance()
    {
        var masker = new MlmMasker(VocabSize, SpecialTokens.MaskId, SpecialTokens.PadId, Specials);
        var sequences = RandomSequences(200, 200, 300, VocabSize, seed: 1);
        using var batch = masker.Mask(sequences, new Random(7));
        long[] inputs = Values(batch.InputIds), labels = Values(batch.Labels);
        int width = (int)batch.InputIds.shape[1];

        long eligible = 0, selected = 0, masked = 0, random = 0, kept = 0;
        for (int r = 0; r < sequences.Count; r++)
        {
            for (int t = 0; t < sequences[r].Length; t++)
            {
                int original = sequences[r][t];
                long input = inputs[r * width + t], label = labels[r * width + t];
                if (Specials.Contains(original)) continue;
                eligible++;
                if (label == MlmMasker.IgnoreIndex) continue;
                selected++;
                Assert.AreEqual(original, label);
                if (input == SpecialTokens.MaskId) masked++;
                else if (input == original) kept++;
                else random++;
            }
        }
        // Binomial standard deviations: ~0.0016 for the selection rate, <0.005 for the split; tolerances are 5-6 sigma.
        Assert.AreEqual(0.15, (double)selected / eligible, 0.01);
        Assert.AreEqual(0.8, (double)masked / selected, 0.03);
        Assert.AreEqual(0.1, (double)random / selected, 0.02);
        Assert.AreEqual(0.1, (double)kept / selected, 0.02);
        Assert.AreEqual((int)selected, batch.MaskedCount);
    }

    [TestMethod]
    public void SpecialTokensAndPaddingAreNeverMaskedOrDrawnAndLabelsMarkExactlyThePredictedPositions()
    {
        // A tiny vocabulary (5 specials + 5 ordinary ids) makes a special id drawn by mistake very likely to show up.
        const int tinyVocab = 10;
        var masker = new MlmMasker(tinyVocab, SpecialTokens.MaskId, SpecialTokens.PadId, Specials, maskProbability: 0.5, maskTokenFraction: 0.0, randomTokenFraction: 1.0);
        var sequences = RandomSequences(100, 3, 40, tinyVocab, seed: 3);
        // Specials inside the text too (e.g. the pair separator </s></s>, an <unk>, a literal <mask> slot).
        sequences[0] = [0, 5, 6, 2, 2, 7, 3, 8, 4, 9, 2];

        using var batch = masker.Mask(sequences, new Random(11));
        long[] inputs = Values(batch.InputIds), labels = Values(batch.Labels), attention = Values(batch.AttentionMask);
        int width = (int)batch.InputIds.shape[1];
        Assert.AreEqual(sequences.Max(s => s.Length), width, "padding goes to the longest sequence only");
        Assert.AreEqual(ScalarType.Int64, batch.InputIds.dtype);
        Assert.AreEqual(ScalarType.Int64, batch.Labels.dtype);
        Assert.AreEqual(ScalarType.Int64, batch.AttentionMask.dtype);

        int predicted = 0;
        for (int r = 0; r < sequences.Count; r++)
        {
            for (int t = 0; t < width; t++)
            {
                int i = r * width + t;
                if (t >= sequences[r].Length)
                {
                    Assert.AreEqual(SpecialTokens.PadId, inputs[i]);
                    Assert.AreEqual(0, attention[i]);
                    Assert.AreEqual(MlmMasker.IgnoreIndex, labels[i]);
                    continue;
                }
                int original = sequences[r][t];
                Assert.AreEqual(1, attention[i]);
                if (Specials.Contains(original))
                {
                    Assert.AreEqual(original, inputs[i], "special tokens are never changed");
                    Assert.AreEqual(MlmMasker.IgnoreIndex, labels[i], "special tokens are never predicted");
                    continue;
                }
                Assert.DoesNotContain((int)inputs[i], Specials, "random replacements never draw a special id");
                if (labels[i] == MlmMasker.IgnoreIndex) Assert.AreEqual(original, inputs[i], "unselected tokens are unchanged");
                else { Assert.AreEqual(original, labels[i]); predicted++; }
            }
        }
        Assert.AreEqual(predicted, batch.MaskedCount);
        Assert.AreEqual(sequences.Sum(s => s.Length), batch.TokenCount);
        Assert.IsGreaterThan(100, predicted);
    }

    [TestMethod]
    public void TheSameSeedGivesTheSameBatch()
    {
        var masker = new MlmMasker(VocabSize, SpecialTokens.MaskId, SpecialTokens.PadId, Specials);
        var sequences = RandomSequences(16, 10, 64, VocabSize, seed: 5);
        using var a = masker.Mask(sequences, new Random(42));
        using var b = masker.Mask(sequences, new Random(42));
        using var c = masker.Mask(sequences, new Random(43));
        CollectionAssert.AreEqual(Values(a.InputIds), Values(b.InputIds));
        CollectionAssert.AreEqual(Values(a.Labels), Values(b.Labels));
        Assert.AreEqual(a.MaskedCount, b.MaskedCount);
        CollectionAssert.AreNotEqual(Values(a.Labels), Values(c.Labels));
    }

    [TestMethod]
    public void ABatchWithNoSelectionGetsOnePredictionUnlessDisabled()
    {
        int[][] sequences = [[0, 10, 11, 2], [0, 12, 2]];
        var forced = new MlmMasker(VocabSize, SpecialTokens.MaskId, SpecialTokens.PadId, Specials, maskProbability: 0);
        using var one = forced.Mask(sequences, new Random(1));
        Assert.AreEqual(1, one.MaskedCount);
        Assert.AreEqual(1, Values(one.Labels).Count(l => l != MlmMasker.IgnoreIndex));

        var plain = new MlmMasker(VocabSize, SpecialTokens.MaskId, SpecialTokens.PadId, Specials, maskProbability: 0) { EnsureAtLeastOnePrediction = false };
        using var none = plain.Mask(sequences, new Random(1));
        Assert.AreEqual(0, none.MaskedCount);
        Assert.IsTrue(Values(none.Labels).All(l => l == MlmMasker.IgnoreIndex));
    }

    [TestMethod]
    public void BadArgumentsAreRejected()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MlmMasker(VocabSize, VocabSize, 1, Specials));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MlmMasker(VocabSize, 4, 1, Specials, maskTokenFraction: 0.8, randomTokenFraction: 0.3));
        var masker = new MlmMasker(VocabSize, 4, 1, Specials);
        Assert.ThrowsExactly<ArgumentException>(() => masker.Mask([], new Random(0)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => masker.Mask([[0, VocabSize, 2]], new Random(0)));
    }
}
