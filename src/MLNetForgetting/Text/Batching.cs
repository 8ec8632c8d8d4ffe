namespace MLNetForgetting.Text;

/// <summary>Counters filled while <see cref="Batching.Encode"/> streams a corpus.</summary>
internal sealed class CorpusStats
{
    /// <summary>Texts read, including skipped ones.</summary>
    public long Rows;
    /// <summary>Texts skipped because they were null, empty, whitespace-only or empty after normalisation.</summary>
    public long SkippedEmpty;
    /// <summary>Texts cut to the maximum length.</summary>
    public long Truncated;
    /// <summary>Ids yielded, special tokens included.</summary>
    public long Tokens;

    /// <inheritdoc/>
    public override string ToString() => $"rows={Rows} skipped_empty={SkippedEmpty} truncated={Truncated} tokens={Tokens}";
}

/// <summary>Streaming encoding and length-bucketed batching of token sequences.</summary>
internal static class Batching
{
    /// <summary>
    /// Lazily encodes each text as &lt;s&gt; text &lt;/s&gt; of at most <paramref name="maxLength"/> ids.
    /// Blank texts are skipped and counted; nothing is buffered, so the corpus is never held in memory.
    /// </summary>
    public static IEnumerable<int[]> Encode(IEnumerable<string?> texts, SubwordTokenizer tokenizer, int maxLength, CorpusStats stats)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(stats);
        if (maxLength < 3) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must leave room for the two special tokens and one token.");
        return Iterate();

        IEnumerable<int[]> Iterate()
        {
            foreach (string? text in texts)
            {
                stats.Rows++;
                if (string.IsNullOrWhiteSpace(text)) { stats.SkippedEmpty++; continue; }
                int[] ids = tokenizer.EncodeSingle(text, maxLength, out bool truncated);
                if (ids.Length <= 2) { stats.SkippedEmpty++; continue; }   // only control characters, say
                if (truncated) stats.Truncated++;
                stats.Tokens += ids.Length;
                yield return ids;
            }
        }
    }

    /// <summary>
    /// Groups sequences into batches of similar length to cut padding: reads a pool of
    /// <paramref name="batchSize"/> × <paramref name="poolBatches"/> sequences, sorts it by length (stable),
    /// cuts it into batches, shuffles the batch order with <paramref name="rng"/> and yields them; then
    /// the next pool. Every sequence is yielded exactly once; the source is enumerated once, lazily.
    /// The last batch of a pool may be smaller.
    /// </summary>
    public static IEnumerable<IReadOnlyList<int[]>> LengthBucketed(IEnumerable<int[]> sequences, int batchSize, int poolBatches, Random rng)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(rng);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
        if (poolBatches < 1) throw new ArgumentOutOfRangeException(nameof(poolBatches));
        return Iterate();

        IEnumerable<IReadOnlyList<int[]>> Iterate()
        {
            int poolSize = checked(batchSize * poolBatches);
            var pool = new List<int[]>(Math.Min(poolSize, 1 << 16));
            foreach (int[] sequence in sequences)
            {
                pool.Add(sequence ?? throw new ArgumentException("A sequence is null.", nameof(sequences)));
                if (pool.Count == poolSize)
                {
                    foreach (var batch in Bucket(pool, batchSize, rng)) yield return batch;
                    pool.Clear();
                }
            }
            if (pool.Count > 0)
            {
                foreach (var batch in Bucket(pool, batchSize, rng)) yield return batch;
            }
        }
    }

    private static List<int[][]> Bucket(List<int[]> pool, int batchSize, Random rng)
    {
        // OrderBy is stable, so equal lengths keep their input order and the result is deterministic.
        int[][] sorted = [.. pool.OrderBy(s => s.Length)];
        var batches = new List<int[][]>((sorted.Length + batchSize - 1) / batchSize);
        for (int start = 0; start < sorted.Length; start += batchSize)
        {
            batches.Add(sorted[start..Math.Min(sorted.Length, start + batchSize)]);
        }
        for (int i = batches.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (batches[i], batches[j]) = (batches[j], batches[i]);
        }
        return batches;
    }
}
