namespace MLNetForgetting.Synthetic;

/// <summary>
/// SplitMix64 generator. The testbed promises byte-identical output for a given seed on every
/// runtime, which <see cref="System.Random"/> does not document, so it uses its own generator.
/// </summary>
internal sealed class DeterministicRandom
{
    private ulong _state;

    public DeterministicRandom(ulong seed) => _state = seed;

    /// <summary>Derives a seed from several parts (order matters) so that streams for different purposes are independent.</summary>
    public static ulong Mix(params ReadOnlySpan<ulong> parts)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (ulong p in parts)
        {
            h = Finalize(h ^ Finalize(p + 0x632BE59BD9B4E019UL));
        }
        return h;
    }

    /// <summary>FNV-1a over UTF-16 code units: a stable string hash (string.GetHashCode is randomised per process).</summary>
    public static ulong Hash(string text)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in text)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return h;
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Finalize(_state);
    }

    /// <summary>Uniform integer in [0, maxExclusive).</summary>
    public int Next(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive));
        // Multiply-shift keeps the bias below 2^-32, irrelevant at these sizes.
        return (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);
    }

    /// <summary>Uniform integer in [minInclusive, maxInclusive].</summary>
    public int Next(int minInclusive, int maxInclusive) => minInclusive + Next(maxInclusive - minInclusive + 1);

    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public bool Chance(double probability) => NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
