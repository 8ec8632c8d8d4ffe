using System.Runtime.InteropServices;
using System.Text;

namespace MLNetForgetting.Text;

/// <summary>Settings for <see cref="BpeVocabularyTrainer"/>.</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>
    /// Upper bound on the vocabulary size, counting the 5 special tokens and the 256 byte symbols
    /// (so at least 261). Training stops earlier if no pair reaches <see cref="MinFrequency"/>.
    /// </summary>
    public int VocabSize { get; init; } = 8000;

    /// <summary>A pair must occur at least this often (counting word frequencies) to be merged.</summary>
    public int MinFrequency { get; init; } = 2;

    /// <summary>Stop reading texts after this many (normalised) characters; the last text is cut.</summary>
    public long MaxTrainingCharacters { get; init; } = 50_000_000;

    /// <summary>
    /// Texts that must each become a single token, e.g. LiST label words with their leading space
    /// (" great", " Yes"). Each must be one pre-token (a leading space plus letters, or letters only).
    /// Space for them is reserved inside <see cref="VocabSize"/>; the merges that build them are
    /// appended after the learned ones.
    /// </summary>
    public IReadOnlyList<string> RequiredTokens { get; init; } = [];
}

/// <summary>
/// Trains a byte-level BPE vocabulary (GPT-2/RoBERTa style) whose vocab.json and merges.txt load in
/// Microsoft.ML.Tokenizers' <c>BpeTokenizer</c>. Because the 256 byte symbols are always in the
/// vocabulary, any text in any script encodes without unknown tokens.
/// </summary>
/// <remarks>
/// Deterministic: word types are processed in ordinal order and the next merge is the most frequent
/// pair, ties broken by ordinal order of the left then the right token string, so equal input and
/// options give byte-identical files. Pair counts are kept over word types and updated incrementally
/// for the words that contain the merged pair only.
/// </remarks>
public static class BpeVocabularyTrainer
{
    private const int FirstByteId = 5;                 // ids 0-4 are the special tokens
    private const int AlphabetEnd = FirstByteId + 256;

    /// <summary>Trains on <paramref name="texts"/> (null, empty and whitespace-only texts are skipped).</summary>
    /// <param name="texts">Training text, read once, lazily.</param>
    /// <param name="options">Vocabulary size and limits.</param>
    /// <param name="progress">Receives the fraction of merges done, from 0 to 1.</param>
    /// <exception cref="ArgumentException">There is no non-blank text, or a required token is not a single pre-token.</exception>
    public static SubwordTokenizer Train(IEnumerable<string?> texts, BpeTrainerOptions options, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MinFrequency < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MinFrequency, "MinFrequency must be at least 1.");
        if (options.MaxTrainingCharacters <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxTrainingCharacters, "MaxTrainingCharacters must be positive.");

        string[] required = ValidateRequiredTokens(options.RequiredTokens);
        int reserved = required.Sum(t => Encoding.UTF8.GetByteCount(t) - 1);
        if (options.VocabSize < AlphabetEnd + reserved)
            throw new ArgumentOutOfRangeException(nameof(options), options.VocabSize, $"VocabSize must be at least {AlphabetEnd + reserved} (5 special tokens + 256 byte symbols + room for the required tokens).");

        Dictionary<string, long> wordCounts = CountWords(texts, options.MaxTrainingCharacters);
        progress?.Report(0);

        var state = new MergeState(wordCounts);
        state.Learn(options.VocabSize - reserved, options.MinFrequency, progress);
        foreach (string token in required) state.ForceSingleToken(token);
        progress?.Report(1);

        var merges = state.Merges.Select(m => (state.Tokens[m.Left], state.Tokens[m.Right])).ToList();
        return SubwordTokenizer.CreateBpe(state.Tokens, merges);
    }

    private static string[] ValidateRequiredTokens(IReadOnlyList<string>? tokens)
    {
        if (tokens is null) return [];
        var result = new List<string>();
        foreach (string? token in tokens)
        {
            string normalized = TextNormalization.Normalize(token);
            var match = PreTokenization.Regex.Match(normalized);
            if (normalized.Length == 0 || !match.Success || match.Index != 0 || match.Length != normalized.Length)
                throw new ArgumentException($"Required token '{token}' must be exactly one pre-token (optionally a leading space, then letters, digits or punctuation of one class).", nameof(tokens));
            if (!result.Contains(normalized, StringComparer.Ordinal)) result.Add(normalized);
        }
        return [.. result];
    }

    // Pre-token frequencies; keys are pre-tokens of the normalised text.
    private static Dictionary<string, long> CountWords(IEnumerable<string?> texts, long maxCharacters)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        long seen = 0;
        bool any = false;
        foreach (string? raw in texts)
        {
            if (string.IsNullOrWhiteSpace(raw)) continue;
            string text = TextNormalization.Normalize(raw);
            if (string.IsNullOrWhiteSpace(text)) continue;
            long room = maxCharacters - seen;
            if (text.Length > room)
            {
                int cut = (int)room;
                if (cut > 0 && char.IsHighSurrogate(text[cut - 1])) cut--;   // do not split a surrogate pair
                text = text[..cut];
            }
            any |= text.Length > 0;
            seen += text.Length;
            foreach (var m in PreTokenization.Regex.EnumerateMatches(text))
            {
                CollectionsMarshal.GetValueRefOrAddDefault(lookup, text.AsSpan(m.Index, m.Length), out _)++;
            }
            if (seen >= maxCharacters) break;
        }
        if (!any) throw new ArgumentException("No training text: every text was null, empty or whitespace.", nameof(texts));
        return counts;
    }

    private readonly record struct Merge(int Left, int Right);

    /// <summary>The BPE state: word types as symbol arrays, pair counts and where each pair occurs.</summary>
    private sealed class MergeState
    {
        public readonly List<string> Tokens = [];
        public readonly List<Merge> Merges = [];
        private readonly Dictionary<string, int> _tokenIds = new(StringComparer.Ordinal);
        private readonly HashSet<long> _mergeSet = [];

        private readonly int[][] _words;
        private readonly int[] _lengths;
        private readonly long[] _frequencies;
        private readonly int[] _lastVisit;
        private readonly Dictionary<long, long> _pairCounts = [];
        private readonly Dictionary<long, List<int>> _pairWords = [];
        private readonly PriorityQueue<long, (long Count, long Pair)> _queue;

        public MergeState(Dictionary<string, long> wordCounts)
        {
            foreach (string special in SpecialTokens.InIdOrder) AddToken(special);
            for (int b = 0; b < 256; b++) AddToken(ByteLevelAlphabet.ByteToChar[b].ToString());

            // Ordinal order makes the state independent of dictionary iteration order.
            string[] types = [.. wordCounts.Keys];
            Array.Sort(types, StringComparer.Ordinal);
            _words = new int[types.Length][];
            _lengths = new int[types.Length];
            _frequencies = new long[types.Length];
            _lastVisit = new int[types.Length];
            Array.Fill(_lastVisit, -1);
            for (int w = 0; w < types.Length; w++)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(types[w]);
                var symbols = new int[bytes.Length];
                for (int i = 0; i < bytes.Length; i++) symbols[i] = FirstByteId + bytes[i];
                _words[w] = symbols;
                _lengths[w] = symbols.Length;
                _frequencies[w] = wordCounts[types[w]];
                for (int i = 0; i + 1 < symbols.Length; i++)
                {
                    long pair = Key(symbols[i], symbols[i + 1]);
                    CollectionsMarshal.GetValueRefOrAddDefault(_pairCounts, pair, out _) += _frequencies[w];
                    AddWhere(pair, w);
                }
            }

            _queue = new PriorityQueue<long, (long Count, long Pair)>(Comparer<(long Count, long Pair)>.Create(ComparePriority));
            foreach (var (pair, count) in _pairCounts) _queue.Enqueue(pair, (count, pair));
        }

        private static long Key(int left, int right) => ((long)left << 32) | (uint)right;
        private static int LeftOf(long pair) => (int)(pair >> 32);
        private static int RightOf(long pair) => (int)(pair & 0xFFFFFFFF);

        // Higher count first; ties by ordinal order of the left, then the right token string.
        private int ComparePriority((long Count, long Pair) x, (long Count, long Pair) y)
        {
            int c = y.Count.CompareTo(x.Count);
            if (c != 0 || x.Pair == y.Pair) return c;
            c = string.CompareOrdinal(Tokens[LeftOf(x.Pair)], Tokens[LeftOf(y.Pair)]);
            return c != 0 ? c : string.CompareOrdinal(Tokens[RightOf(x.Pair)], Tokens[RightOf(y.Pair)]);
        }

        private int AddToken(string token)
        {
            if (_tokenIds.TryGetValue(token, out int id)) return id;
            id = Tokens.Count;
            Tokens.Add(token);
            _tokenIds.Add(token, id);
            return id;
        }

        private void AddWhere(long pair, int word)
        {
            ref List<int>? list = ref CollectionsMarshal.GetValueRefOrAddDefault(_pairWords, pair, out _);
            list ??= [];
            if (list.Count == 0 || list[^1] != word) list.Add(word);
        }

        public void Learn(int vocabLimit, int minFrequency, IProgress<double>? progress)
        {
            int target = Math.Max(1, vocabLimit - Tokens.Count);
            int reportEvery = Math.Max(1, target / 100);
            var touched = new HashSet<long>();
            while (Tokens.Count < vocabLimit && _queue.TryDequeue(out long pair, out var priority))
            {
                long current = _pairCounts.GetValueOrDefault(pair);
                if (current != priority.Count)
                {
                    // Stale entry. Counts of existing pairs only fall, except pairs with a token whose
                    // string was produced again; those were re-queued when they grew.
                    if (current > 0 && current < priority.Count) _queue.Enqueue(pair, (current, pair));
                    continue;
                }
                if (current < minFrequency) break;

                int left = LeftOf(pair), right = RightOf(pair);
                string merged = Tokens[left] + Tokens[right];
                if (SpecialTokens.InIdOrder.Contains(merged))
                {
                    // Never let ordinary text turn into a special token (the pre-tokenizer already prevents it).
                    continue;
                }
                int newId = AddToken(merged);
                Merges.Add(new Merge(left, right));
                _mergeSet.Add(pair);
                ApplyMerge(pair, left, right, newId, touched);
                foreach (long p in touched)
                {
                    if (_pairCounts.TryGetValue(p, out long count) && count > 0) _queue.Enqueue(p, (count, p));
                }
                if (Merges.Count % reportEvery == 0) progress?.Report(Math.Min(1.0, (double)(Tokens.Count - AlphabetEnd) / target));
            }
        }

        private void ApplyMerge(long pair, int left, int right, int newId, HashSet<long> touched)
        {
            touched.Clear();
            if (!_pairWords.Remove(pair, out List<int>? words)) return;
            int stamp = Merges.Count;
            foreach (int w in words)
            {
                if (_lastVisit[w] == stamp) continue;
                _lastVisit[w] = stamp;
                int[] s = _words[w];
                int n = _lengths[w];
                long f = _frequencies[w];

                bool found = false;
                for (int i = 0; i + 1 < n; i++)
                {
                    if (s[i] == left && s[i + 1] == right) { found = true; break; }
                }
                if (!found) continue;   // the word lost this pair through an earlier merge

                for (int i = 0; i + 1 < n; i++) Add(Key(s[i], s[i + 1]), -f);
                int j = 0;
                for (int i = 0; i < n;)
                {
                    if (i + 1 < n && s[i] == left && s[i + 1] == right) { s[j++] = newId; i += 2; }
                    else s[j++] = s[i++];
                }
                n = j;
                _lengths[w] = n;
                for (int i = 0; i + 1 < n; i++)
                {
                    long p = Key(s[i], s[i + 1]);
                    Add(p, f);
                    // Only pairs containing the new symbol can be new to this word or have grown.
                    if (s[i] == newId || s[i + 1] == newId)
                    {
                        AddWhere(p, w);
                        touched.Add(p);
                    }
                }
            }
            _pairCounts.Remove(pair);
        }

        private void Add(long pair, long delta)
        {
            ref long count = ref CollectionsMarshal.GetValueRefOrAddDefault(_pairCounts, pair, out _);
            count += delta;
            if (count == 0) _pairCounts.Remove(pair);
        }

        /// <summary>
        /// Makes <paramref name="text"/> one token: segment it with the merges so far, then append the
        /// merges that join the pieces left to right (BPE applies them last, after every learned merge).
        /// </summary>
        public void ForceSingleToken(string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            var symbols = bytes.Select(b => FirstByteId + b).ToList();
            var ranks = new Dictionary<long, int>(Merges.Count);
            for (int r = 0; r < Merges.Count; r++) ranks.TryAdd(Key(Merges[r].Left, Merges[r].Right), r);

            while (symbols.Count > 1)
            {
                int best = -1, bestRank = int.MaxValue;
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (ranks.TryGetValue(Key(symbols[i], symbols[i + 1]), out int r) && r < bestRank) { best = i; bestRank = r; }
                }
                if (best < 0) break;
                symbols[best] = _tokenIds[Tokens[symbols[best]] + Tokens[symbols[best + 1]]];
                symbols.RemoveAt(best + 1);
            }

            int current = symbols[0];
            for (int i = 1; i < symbols.Count; i++)
            {
                long pair = Key(current, symbols[i]);
                int joined = AddToken(Tokens[current] + Tokens[symbols[i]]);
                if (_mergeSet.Add(pair)) Merges.Add(new Merge(current, symbols[i]));
                current = joined;
            }
        }
    }
}
