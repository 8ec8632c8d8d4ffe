using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Text;

[TestClass]
public sealed class BatchingTests
{
    /// <summary>Sequences whose first id is a unique serial number, with varied lengths.</summary>
    private static List<int[]> Numbered(int count, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i => Enumerable.Repeat(7, rng.Next(1, 120)).Prepend(i).ToArray())];
    }

    /// <summary>Throws if enumerated a second time, so a test notices any buffering via re-enumeration.</summary>
    private sealed class OnceOnly<T>(IEnumerable<T> items) : IEnumerable<T>
    {
        private int _enumerations;
        public IEnumerator<T> GetEnumerator()
        {
            if (Interlocked.Increment(ref _enumerations) > 1) throw new InvalidOperationException("enumerated twice");
            return items.GetEnumerator();
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private static long PaddedCells(IEnumerable<IReadOnlyList<int[]>> batches) => batches.Sum(b => (long)b.Count * b.Max(s => s.Length));

    [TestMethod]
    public void EverySequenceAppearsExactlyOnceInBatchesOfAtMostBatchSize()
    {
        var sequences = Numbered(1003, seed: 1);
        var batches = Batching.LengthBucketed(new OnceOnly<int[]>(sequences), batchSize: 16, poolBatches: 8, new Random(3)).ToList();
        Assert.IsTrue(batches.All(b => b.Count is > 0 and <= 16));
        var seen = batches.SelectMany(b => b).Select(s => s[0]).Order().ToArray();
        CollectionAssert.AreEqual(Enumerable.Range(0, sequences.Count).ToArray(), seen);
    }

    [TestMethod]
    public void BucketingCutsPaddingComparedToInputOrder()
    {
        var sequences = Numbered(2048, seed: 2);
        long bucketed = PaddedCells(Batching.LengthBucketed(sequences, 32, 16, new Random(1)));
        long unsorted = PaddedCells(sequences.Chunk(32));
        long real = sequences.Sum(s => (long)s.Length);
        // Uniform lengths 2..120: unsorted batches pad to ~the maximum, sorted pools to nearly the real length.
        Assert.IsLessThan(unsorted * 0.7, bucketed, $"bucketed {bucketed} vs unsorted {unsorted} padded cells");
        Assert.IsLessThan(real * 1.15, bucketed);
    }

    [TestMethod]
    public void BatchOrderIsShuffledDeterministically()
    {
        var sequences = Numbered(640, seed: 4);
        string Order(int seed) => string.Join(",", Batching.LengthBucketed(sequences, 10, 64, new Random(seed)).Select(b => b[0][0]));
        Assert.AreEqual(Order(9), Order(9));
        Assert.AreNotEqual(Order(9), Order(10));
        var lengths = Batching.LengthBucketed(sequences, 10, 64, new Random(9)).Select(b => b.Max(s => s.Length)).ToList();
        Assert.IsFalse(lengths.SequenceEqual(lengths.Order()), "batches of one pool are not yielded shortest-first");
    }

    [TestMethod]
    public void BucketingStreamsAnEndlessSource()
    {
        IEnumerable<int[]> Endless() { for (int i = 0; ; i++) yield return new int[1 + i % 50]; }
        var first = Batching.LengthBucketed(Endless(), 8, 4, new Random(0)).Take(5).ToList();
        Assert.HasCount(5, first);
    }

    [TestMethod]
    public void EncodeSkipsBlankTextsCountsTruncationAndStreams()
    {
        var tokenizer = TextTestData.EnglishTokenizer;
        string longText = string.Join(" ", Enumerable.Repeat("The river flows through the old town.", 40));
        string?[] texts = ["A short sentence.", null, "", "   \t", longText, "\u0001\u0002", "Another one."];
        var stats = new CorpusStats();
        var encoded = Batching.Encode(new OnceOnly<string?>(texts), tokenizer, maxLength: 32, stats).ToList();

        Assert.HasCount(3, encoded);
        Assert.AreEqual(7, stats.Rows);
        Assert.AreEqual(4, stats.SkippedEmpty, "null, empty, whitespace and control-only texts");
        Assert.AreEqual(1, stats.Truncated);
        Assert.AreEqual(encoded.Sum(e => (long)e.Length), stats.Tokens);
        Assert.HasCount(32, encoded[1]);
        CollectionAssert.AreEqual(tokenizer.EncodeSingle("A short sentence.", 32), encoded[0]);
        Assert.IsTrue(encoded.All(e => e[0] == tokenizer.BosId && e[^1] == tokenizer.EosId));

        IEnumerable<string> Endless() { while (true) yield return "endless text"; }
        var lazyStats = new CorpusStats();
        Assert.HasCount(3, Batching.Encode(Endless(), tokenizer, 16, lazyStats).Take(3).ToList());
        Assert.AreEqual(3, lazyStats.Rows, "nothing is read ahead");
    }

    [TestMethod]
    public void EncodeThenBucketThenMaskEndToEnd()
    {
        var tokenizer = TextTestData.EnglishTokenizer;
        var stats = new CorpusStats();
        var lines = TextTestData.EnglishHeldOut(30_000);
        var masker = new MlmMasker(tokenizer.VocabSize, tokenizer.MaskId, tokenizer.PadId, tokenizer.SpecialIds);
        int step = 0, rows = 0;
        foreach (var batch in Batching.LengthBucketed(Batching.Encode(lines, tokenizer, 64, stats), 8, 4, new Random(1)))
        {
            using var mlm = masker.Mask(batch, new Random(17 ^ step++));
            Assert.AreEqual(batch.Count, (int)mlm.InputIds.shape[0]);
            Assert.AreEqual(batch.Max(s => s.Length), (int)mlm.InputIds.shape[1]);
            Assert.IsGreaterThan(0, mlm.MaskedCount);
            rows += batch.Count;
        }
        Assert.AreEqual(stats.Rows - stats.SkippedEmpty, rows);
        Assert.IsGreaterThan(0, stats.Truncated, "held-out paragraphs are longer than 64 tokens");
    }
}
