using System.Text;

namespace MLNetForgetting.Text;

/// <summary>What <see cref="TokenizerFuzzer.Run"/> found.</summary>
/// <param name="Strings">Random strings fed through every path.</param>
/// <param name="RoundTripsChecked">Strings whose <c>Decode(EncodeToIds(x))</c> was compared with the normalised text (lossless kinds only).</param>
/// <param name="RoundTripFailures">Up to 10 strings (escaped) whose round trip differed; empty when the property holds.</param>
/// <param name="PairsRefused">OnlyFirst/OnlySecond pair truncations that could not fit and threw the documented <see cref="ArgumentException"/>.</param>
/// <param name="Tokens">Token ids produced in total (a checksum of the work done).</param>
internal sealed record TokenizerFuzzReport(long Strings, long RoundTripsChecked, IReadOnlyList<string> RoundTripFailures, long PairsRefused, long Tokens);

/// <summary>
/// Feeds random Unicode (any BMP character including unpaired surrogates, controls, combining marks,
/// right-to-left and CJK text, plus astral characters such as emoji) through every encoding path of a
/// <see cref="SubwordTokenizer"/>: <c>EncodeToIds</c>/<c>Decode</c>, <c>EncodeSingle</c> with
/// truncation, and <c>EncodePair</c> with each truncation strategy. Any exception other than the
/// documented refusal of an impossible OnlyFirst/OnlySecond truncation escapes with the offending
/// string (escaped) in its message; structural invariants (ids in the vocabulary, special tokens in
/// place, lengths within the limit, truncation keeping a prefix) are checked on every call. The round
/// trip <c>Decode(EncodeToIds(x)) == TextNormalization.Normalize(x)</c> is checked for the lossless kinds
/// (byte-level BPE, tiktoken); BERT WordPiece and SentencePiece normalise lossily (lower-casing,
/// whitespace, unknown pieces), so for them it is not defined.
/// </summary>
internal static class TokenizerFuzzer
{
    // Ranges random characters are drawn from, most with equal weight: ASCII, Latin-1 and controls,
    // combining marks, Greek/Cyrillic, Hebrew/Arabic (right-to-left), Devanagari, Thai, CJK, Hangul,
    // bidi and zero-width controls, specials (U+FFF0..U+FFFF), and surrogates drawn singly (unpaired).
    private static readonly (int From, int To)[] Ranges =
    [
        (0x20, 0x7E), (0x00, 0x1F), (0x7F, 0xFF), (0x300, 0x36F), (0x370, 0x4FF), (0x590, 0x6FF), (0x900, 0x97F),
        (0xE00, 0xE7F), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0x200B, 0x202E), (0xFFF0, 0xFFFF), (0xD800, 0xDFFF),
    ];

    /// <summary>A random string of 0..<paramref name="maxLength"/> UTF-16 units (a pair counts 2).</summary>
    public static string RandomString(Random random, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(random);
        int length = random.Next(maxLength + 1);
        var sb = new StringBuilder(length + 1);
        while (sb.Length < length)
        {
            int pick = random.Next(Ranges.Length + 2);
            if (pick == Ranges.Length) sb.Append(char.ConvertFromUtf32(random.Next(0x1F300, 0x1FAFF))); // valid surrogate pair
            else if (pick == Ranges.Length + 1) sb.Append(' ');
            else { var (from, to) = Ranges[pick]; sb.Append((char)random.Next(from, to + 1)); }
        }
        return sb.ToString();
    }

    /// <summary>Runs <paramref name="count"/> random strings (seeded) through every path of <paramref name="tokenizer"/>.</summary>
    public static TokenizerFuzzReport Run(SubwordTokenizer tokenizer, int count, int seed, int maxLength = 48, int truncateTo = 16)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var random = new Random(seed);
        bool lossless = tokenizer.IsLossless;
        long checkedRoundTrips = 0, refused = 0, tokens = 0;
        var failures = new List<string>();
        string previous = "";
        for (int i = 0; i < count; i++)
        {
            string text = RandomString(random, maxLength);
            try
            {
                int[] ids = tokenizer.EncodeToIds(text);
                tokens += ids.Length;
                foreach (int id in ids) if ((uint)id >= (uint)tokenizer.VocabSize) Require(false, $"id {id} outside the vocabulary");
                string decoded = tokenizer.Decode(ids);
                if (lossless)
                {
                    checkedRoundTrips++;
                    if (decoded != TextNormalization.Normalize(text) && failures.Count < 10) failures.Add(Escape(text));
                }

                int[] single = tokenizer.EncodeSingle(text, truncateTo, out bool truncated);
                Require(single.Length <= truncateTo && single[0] == tokenizer.BosId && single[^1] == tokenizer.EosId, "EncodeSingle layout");
                Require(truncated == ids.Length > truncateTo - 2 && single.AsSpan(1, single.Length - 2).SequenceEqual(ids.AsSpan(0, single.Length - 2)), "EncodeSingle keeps a prefix");

                foreach (var strategy in new[] { TruncationStrategy.LongestFirst, TruncationStrategy.OnlyFirst, TruncationStrategy.OnlySecond })
                {
                    try
                    {
                        int[] pair = tokenizer.EncodePair(text, previous, truncateTo, strategy);
                        Require(pair.Length <= truncateTo && pair[0] == tokenizer.BosId && pair[^1] == tokenizer.EosId, $"EncodePair ({strategy}) layout");
                    }
                    catch (ArgumentException) when (strategy != TruncationStrategy.LongestFirst) { refused++; }
                }
            }
            catch (Exception e)
            {
                throw new TokenizerFuzzFailure($"{tokenizer.Kind} tokenizer failed on string {i} \"{Escape(text)}\": {e.GetType().Name}: {e.Message}", e);
            }
            previous = text;
        }
        return new TokenizerFuzzReport(count, checkedRoundTrips, failures, refused, tokens);

        // Caught just above and rethrown as a TokenizerFuzzFailure naming the string.
        static void Require(bool ok, string what)
        {
            if (!ok) throw new InvalidOperationException("broken invariant: " + what);
        }
    }

    /// <summary>The string with everything outside printable ASCII as \uXXXX, so failures can be reproduced.</summary>
    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length * 2);
        foreach (char c in text) sb.Append(c is >= ' ' and <= '~' && c != '\\' && c != '"' ? c.ToString() : $"\\u{(int)c:X4}");
        return sb.ToString();
    }
}

/// <summary>A tokenizer threw or broke an invariant on a fuzzed string (named, escaped, in the message).</summary>
internal sealed class TokenizerFuzzFailure(string message, Exception? inner = null) : Exception(message, inner);
