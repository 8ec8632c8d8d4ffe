using MLNetForgetting.Text;

namespace MLNetForgetting.Prompts;

/// <summary>A label word that the tokenizer does not encode as exactly one token (with its leading space).</summary>
public sealed class LabelWordException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="word"/>.</summary>
    public LabelWordException(string word, string message) : base(message) => Word = word;

    /// <summary>The offending label word (without the leading space).</summary>
    public string Word { get; }
}

/// <summary>
/// Maps each class label to a label word (docs/methods.md §3.1). The class index is the position in
/// <see cref="Labels"/>. Words are given without their leading space ("great"); the scored token is
/// " great", which must be a single token of the tokenizer.
/// </summary>
internal sealed class Verbalizer
{
    private readonly Dictionary<string, int> index;

    /// <summary>Creates a verbalizer; labels and words must be distinct and non-empty.</summary>
    public Verbalizer(IEnumerable<KeyValuePair<string, string>> labelToWord)
    {
        ArgumentNullException.ThrowIfNull(labelToWord);
        var pairs = labelToWord.ToList();
        if (pairs.Count < 2) throw new ArgumentException("A verbalizer needs at least 2 labels.", nameof(labelToWord));
        foreach (var (label, word) in pairs)
        {
            if (string.IsNullOrWhiteSpace(label)) throw new ArgumentException("A label is empty.", nameof(labelToWord));
            if (string.IsNullOrWhiteSpace(word) || word != word.Trim())
                throw new ArgumentException($"The word of label '{label}' must be non-empty and written without surrounding spaces (the leading space is added): '{word}'.", nameof(labelToWord));
        }
        if (pairs.Select(p => p.Key).Distinct(StringComparer.Ordinal).Count() != pairs.Count) throw new ArgumentException("Labels must be distinct.", nameof(labelToWord));
        if (pairs.Select(p => p.Value).Distinct(StringComparer.Ordinal).Count() != pairs.Count) throw new ArgumentException("Label words must be distinct.", nameof(labelToWord));
        Labels = pairs.Select(p => p.Key).ToArray();
        Words = pairs.Select(p => p.Value).ToArray();
        index = Labels.Select((l, i) => (l, i)).ToDictionary(t => t.l, t => t.i, StringComparer.Ordinal);
    }

    /// <summary>Creates a verbalizer from (label, word) pairs, e.g. ("0", "terrible"), ("1", "great").</summary>
    public static Verbalizer Of(params (string Label, string Word)[] pairs) =>
        new(pairs.Select(p => new KeyValuePair<string, string>(p.Label, p.Word)));

    /// <summary>Class labels in class-index order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Label words (no leading space) in class-index order.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>Number of classes.</summary>
    public int Count => Labels.Count;

    /// <summary>The class index of <paramref name="label"/>; throws an <see cref="ArgumentException"/> naming it if absent.</summary>
    public int IndexOf(string label)
    {
        if (label is not null && index.TryGetValue(label, out int i)) return i;
        throw new ArgumentException($"Label '{label}' is not in the verbalizer (labels: {string.Join(", ", Labels.Select(l => $"'{l}'"))}).", nameof(label));
    }

    /// <summary>Whether <paramref name="label"/> is one of the labels.</summary>
    public bool Contains(string label) => label is not null && index.ContainsKey(label);

    /// <summary>
    /// The token id of " word" for every class. Throws <see cref="LabelWordException"/> naming the first
    /// word that is not a single token.
    /// </summary>
    public int[] LabelWordIds(SubwordTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var ids = new int[Count];
        for (int c = 0; c < Count; c++)
        {
            string spaced = " " + Words[c];
            if (tokenizer.SingleTokenId(spaced) is not { } id)
            {
                int n = tokenizer.EncodeToIds(spaced).Length;
                throw new LabelWordException(Words[c],
                    $"Label word '{Words[c]}' (label '{Labels[c]}') is not a single token: \"{spaced}\" encodes to {n} tokens with this tokenizer. " +
                    "Prompt-based classification scores each class by the MLM logit of one token at <mask>, so every label word with its leading space must be one token. " +
                    $"Choose another word, or train the vocabulary with BpeTrainerOptions.RequiredTokens containing \"{spaced}\".");
            }
            ids[c] = id;
        }
        return ids;
    }
}
