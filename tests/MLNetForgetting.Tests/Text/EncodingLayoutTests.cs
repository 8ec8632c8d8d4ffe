using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Text;

[TestClass]
public sealed class EncodingLayoutTests
{
    private static SubwordTokenizer Tokenizer => TextTestData.EnglishTokenizer;

    [TestMethod]
    public void EncodeSingleWrapsInBosEosAndRespectsMaxLength()
    {
        string text = "The history of the city goes back to the early settlements along the river.";
        int[] content = Tokenizer.EncodeToIds(text);
        Assert.IsGreaterThan(8, content.Length);

        int[] full = Tokenizer.EncodeSingle(text, 512, out bool fullTruncated);
        Assert.IsFalse(fullTruncated);
        CollectionAssert.AreEqual(new[] { Tokenizer.BosId }.Concat(content).Append(Tokenizer.EosId).ToArray(), full);

        int[] cut = Tokenizer.EncodeSingle(text, 8, out bool truncated);
        Assert.IsTrue(truncated);
        Assert.HasCount(8, cut);
        Assert.AreEqual(Tokenizer.BosId, cut[0]);
        Assert.AreEqual(Tokenizer.EosId, cut[^1]);
        CollectionAssert.AreEqual(content[..6], cut[1..^1], "truncation keeps the beginning of the text");

        CollectionAssert.AreEqual(new[] { Tokenizer.BosId, Tokenizer.EosId }, Tokenizer.EncodeSingle("", 8));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Tokenizer.EncodeSingle(text, 1));
    }

    [TestMethod]
    public void EncodePairUsesTheRobertaLayout()
    {
        int[] a = Tokenizer.EncodeToIds("A man is playing a guitar.");
        int[] b = Tokenizer.EncodeToIds(" Someone makes music.");
        int[] pair = Tokenizer.EncodePair("A man is playing a guitar.", " Someone makes music.", 128);
        int[] expected = [Tokenizer.BosId, .. a, Tokenizer.EosId, Tokenizer.EosId, .. b, Tokenizer.EosId];
        CollectionAssert.AreEqual(expected, pair);
        Assert.AreEqual(4, Tokenizer.PairSpecialTokenCount);
        Assert.AreEqual("A man is playing a guitar. Someone makes music.", Tokenizer.Decode(pair), "decode skips the specials");
    }

    [TestMethod]
    public void TruncationStrategiesShortenTheRightSegment()
    {
        string first = "one two three four five six seven eight nine ten eleven twelve";
        string second = " alpha beta gamma";
        int[] a = Tokenizer.EncodeToIds(first);
        int[] b = Tokenizer.EncodeToIds(second);
        Assert.IsGreaterThan(b.Length + 4, a.Length);
        int maxLength = 4 + b.Length + 3;

        int[] onlyFirst = Tokenizer.EncodePair(first, second, maxLength, TruncationStrategy.OnlyFirst);
        CollectionAssert.AreEqual((int[])[Tokenizer.BosId, .. a[..3], Tokenizer.EosId, Tokenizer.EosId, .. b, Tokenizer.EosId], onlyFirst);

        int[] onlySecond = Tokenizer.EncodePair(second, first, maxLength, TruncationStrategy.OnlySecond);
        CollectionAssert.AreEqual((int[])[Tokenizer.BosId, .. b, Tokenizer.EosId, Tokenizer.EosId, .. a[..3], Tokenizer.EosId], onlySecond);

        // Longest-first cuts the long segment until both are equal, then both alternately.
        int[] longest = Tokenizer.EncodePair(first, second, 4 + 2 * b.Length, TruncationStrategy.LongestFirst);
        CollectionAssert.AreEqual((int[])[Tokenizer.BosId, .. a[..b.Length], Tokenizer.EosId, Tokenizer.EosId, .. b, Tokenizer.EosId], longest);

        foreach (var strategy in new[] { TruncationStrategy.LongestFirst, TruncationStrategy.OnlyFirst })
        {
            Assert.IsLessThanOrEqualTo(maxLength, Tokenizer.EncodePair(first, second, maxLength, strategy).Length);
        }
        Assert.ThrowsExactly<ArgumentException>(() => Tokenizer.EncodePair(first, second, 4 + b.Length - 1, TruncationStrategy.OnlyFirst));
        Assert.ThrowsExactly<ArgumentException>(() => Tokenizer.EncodePair(first, second, 4 + a.Length - 1, TruncationStrategy.OnlySecond));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Tokenizer.EncodePair(first, second, 3));
    }

    [TestMethod]
    public void LongestFirstMatchesRemovingOneTokenAtATimeFromTheLongerSegment()
    {
        for (int la = 0; la <= 12; la++)
        for (int lb = 0; lb <= 12; lb++)
        for (int budget = 0; budget <= 26; budget++)
        {
            int a = la, b = lb;
            while (a + b > budget)
            {
                if (a > b) a--; else b--;
            }
            Assert.AreEqual((a, b), SubwordTokenizer.TruncatedLengths(la, lb, budget, TruncationStrategy.LongestFirst), $"{la},{lb},{budget}");
        }
    }

    [TestMethod]
    public void DecodeSkipsSpecialsAndToleratesACutMultiByteCharacter()
    {
        int[] ids = Tokenizer.EncodeToIds("naïve 東京");
        int[] withSpecials = [Tokenizer.BosId, .. ids, Tokenizer.PadId, Tokenizer.MaskId, Tokenizer.EosId];
        Assert.AreEqual("naïve 東京", Tokenizer.Decode(withSpecials));
        // Truncation can cut the byte tokens of one character; decoding must not throw.
        string partial = Tokenizer.Decode(ids[..^1]);
        StringAssert.StartsWith(partial, "naïve ");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Tokenizer.Decode([Tokenizer.VocabSize]));
    }
}
