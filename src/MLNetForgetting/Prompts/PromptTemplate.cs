using System.Globalization;
using System.Text.RegularExpressions;
using MLNetForgetting.Text;

namespace MLNetForgetting.Prompts;

/// <summary>A template rendered for one example: token ids (with &lt;s&gt; ... &lt;/s&gt; as the template places them) and where &lt;mask&gt; is.</summary>
/// <param name="Ids">Token ids.</param>
/// <param name="MaskPosition">Index of the single &lt;mask&gt; in <paramref name="Ids"/>.</param>
/// <param name="Truncated">Whether sentence tokens were cut to fit the length limit.</param>
internal sealed record PromptEncoding(int[] Ids, int MaskPosition, bool Truncated);

/// <summary>
/// A cloze template in the LM-BFF syntax that LiST uses (docs/methods.md §3.1; see docs/prompts.md):
/// parts between <c>*</c> are rendered one by one, each piece tokenized on its own, and the ids
/// concatenated, so spaces exist only where the template writes them.
/// <list type="bullet">
/// <item><c>cls</c>, <c>mask</c>, <c>sep</c>, <c>sep+</c>: &lt;s&gt;, &lt;mask&gt;, &lt;/s&gt;, &lt;/s&gt; (RoBERTa has no segment ids, so sep+ = sep).</item>
/// <item><c>sent_i</c>: sentence i. Modifiers: a leading <c>+</c> adds a space before it; <c>l</c>/<c>u</c> after
/// <c>sent</c> lower-/upper-cases its first character; <c>-</c> before the <c>_</c> drops its last character
/// (<c>*+sentl_1*</c>, <c>*sent-_0*</c>, <c>*+sentl-_1*</c>).</item>
/// <item>Anything else is literal text with <c>_</c> standing for a space (<c>_It_was</c> is " It was").</item>
/// </list>
/// The template must contain exactly one <c>*mask*</c>.
/// </summary>
internal sealed partial class PromptTemplate
{
    private enum PartKind { Bos, Mask, Sep, Sentence, Text }

    private sealed record Part(PartKind Kind, string Text = "", int Sentence = -1, bool Space = false, char Case = '\0', bool DropLast = false);

    private readonly Part[] parts;

    private PromptTemplate(string text, Part[] parts, int maxLength, int? firstSentenceLimit)
    {
        Text = text;
        this.parts = parts;
        MaxLength = maxLength;
        FirstSentenceLimit = firstSentenceLimit;
        SentenceCount = parts.Where(p => p.Kind == PartKind.Sentence).Select(p => p.Sentence + 1).DefaultIfEmpty(0).Max();
    }

    /// <summary>The template string.</summary>
    public string Text { get; }

    /// <summary>Longest rendering in tokens (LiST: 128; 256 for MNLI and RTE).</summary>
    public int MaxLength { get; }

    /// <summary>Tokens kept of sentence 0 before anything else is truncated (LiST's RTE: 240); null for no limit.</summary>
    public int? FirstSentenceLimit { get; }

    /// <summary>How many input sentences the template reads (1 for single-sentence tasks, 2 for pairs).</summary>
    public int SentenceCount { get; }

    [GeneratedRegex(@"^(\+?)sent([lu]?)(-?)_(\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex SentencePart();

    /// <summary>Parses a template; throws <see cref="FormatException"/> naming the offending part.</summary>
    /// <param name="template">E.g. <c>*cls**sent_0*_It_was*mask*.*sep+*</c>.</param>
    /// <param name="maxLength">Longest rendering in tokens.</param>
    /// <param name="firstSentenceLimit">Optional cap on the tokens of sentence 0.</param>
    public static PromptTemplate Parse(string template, int maxLength = 128, int? firstSentenceLimit = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(template);
        if (maxLength < 3) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must be at least 3.");
        if (firstSentenceLimit is <= 0) throw new ArgumentOutOfRangeException(nameof(firstSentenceLimit), firstSentenceLimit, "firstSentenceLimit must be positive or null.");
        var parsed = new List<Part>();
        foreach (string raw in template.Split('*'))
        {
            if (raw.Length == 0) continue; // "**" between two variables
            switch (raw)
            {
                case "cls": parsed.Add(new Part(PartKind.Bos)); continue;
                case "mask": parsed.Add(new Part(PartKind.Mask)); continue;
                case "sep" or "sep+": parsed.Add(new Part(PartKind.Sep)); continue;
            }
            var m = SentencePart().Match(raw);
            if (m.Success)
            {
                int index = int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
                parsed.Add(new Part(PartKind.Sentence, Sentence: index, Space: m.Groups[1].Length > 0,
                    Case: m.Groups[2].Length > 0 ? m.Groups[2].Value[0] : '\0', DropLast: m.Groups[3].Length > 0));
                continue;
            }
            // LM-BFF's demonstration variables would silently become literal text here; refuse them.
            if (raw.StartsWith("label_", StringComparison.Ordinal) || raw.StartsWith("labelx_", StringComparison.Ordinal) || raw.StartsWith("sent", StringComparison.Ordinal) && raw.Contains('_', StringComparison.Ordinal))
                throw new FormatException($"Template part '*{raw}*' is not supported (supported variables: cls, mask, sep, sep+, [+]sent[l|u][-]_i). Template: {template}");
            parsed.Add(new Part(PartKind.Text, Text: raw.Replace('_', ' ')));
        }
        int masks = parsed.Count(p => p.Kind == PartKind.Mask);
        if (masks != 1) throw new FormatException($"A template needs exactly one *mask*; '{template}' has {masks}.");
        return new PromptTemplate(template, [.. parsed], maxLength, firstSentenceLimit);
    }

    /// <summary>
    /// Renders the template for one example. Pieces are tokenized separately. If the result is longer
    /// than <paramref name="maxLength"/> (default <see cref="MaxLength"/>), tokens are cut from the end of
    /// the longest sentence, one at a time, until it fits: unlike LM-BFF's tail truncation this can never
    /// cut &lt;mask&gt; or &lt;/s&gt;.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong number of sentences, or the template alone does not fit.</exception>
    public PromptEncoding Encode(IReadOnlyList<string> sentences, SubwordTokenizer tokenizer, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (sentences.Count < SentenceCount)
            throw new ArgumentException($"The template '{Text}' reads {SentenceCount} sentence(s); the example has {sentences.Count}.", nameof(sentences));
        int limit = Math.Min(MaxLength, maxLength ?? MaxLength);
        var pieces = new List<(List<int> Ids, bool IsSentence)>(parts.Length);
        bool truncated = false;
        foreach (var p in parts)
        {
            switch (p.Kind)
            {
                case PartKind.Bos: pieces.Add(([tokenizer.BosId], false)); break;
                case PartKind.Mask: pieces.Add(([tokenizer.MaskId], false)); break;
                case PartKind.Sep: pieces.Add(([tokenizer.EosId], false)); break;
                case PartKind.Text: pieces.Add(([.. tokenizer.EncodeToIds(p.Text)], false)); break;
                case PartKind.Sentence:
                    {
                        string text = sentences[p.Sentence] ?? "";
                        if (p.DropLast && text.Length > 0) text = text[..^1];
                        if (p.Case == 'l' && text.Length > 0) text = text[..1].ToLowerInvariant() + text[1..];
                        if (p.Case == 'u' && text.Length > 0) text = text[..1].ToUpperInvariant() + text[1..];
                        if (p.Space) text = " " + text;
                        var ids = tokenizer.EncodeToIds(text).ToList();
                        if (p.Sentence == 0 && FirstSentenceLimit is { } first && ids.Count > first)
                        {
                            ids.RemoveRange(first, ids.Count - first);
                            truncated = true;
                        }
                        pieces.Add((ids, true));
                        break;
                    }
            }
        }
        int total = pieces.Sum(p => p.Ids.Count);
        while (total > limit)
        {
            var longest = pieces.Where(p => p.IsSentence && p.Ids.Count > 0).OrderByDescending(p => p.Ids.Count).Select(p => p.Ids).FirstOrDefault()
                ?? throw new ArgumentException($"The template '{Text}' needs {total} tokens without any sentence text, more than the limit of {limit}.");
            longest.RemoveAt(longest.Count - 1);
            total--;
            truncated = true;
        }
        int[] result = [.. pieces.SelectMany(p => p.Ids)];
        return new PromptEncoding(result, Array.IndexOf(result, tokenizer.MaskId), truncated);
    }

    /// <inheritdoc/>
    public override string ToString() => Text;
}
