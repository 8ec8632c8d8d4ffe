namespace MLNetForgetting.Evaluation;

/// <summary>
/// Labelled sentence pairs with their label names: <see cref="Examples"/>[i].Label indexes
/// <see cref="LabelNames"/>. <see cref="Source"/> names where they came from (a file path, a
/// language) for error messages and reports.
/// </summary>
internal sealed record LabelledPairs(string Source, IReadOnlyList<string> LabelNames, IReadOnlyList<(string Premise, string Hypothesis, int Label)> Examples)
{
    /// <summary>
    /// Maps string labels to indices of <paramref name="labelNames"/> (ordinal, case-insensitive).
    /// </summary>
    /// <exception cref="InvalidDataException">A label is not in <paramref name="labelNames"/>; the message names it, its row and the known set.</exception>
    /// <exception cref="ArgumentException">A premise or hypothesis is null or blank; the message names the row.</exception>
    public static LabelledPairs FromStrings(string source, IEnumerable<(string? Premise, string? Hypothesis, string? Label)> rows, IReadOnlyList<string>? labelNames = null)
    {
        var names = (labelNames ?? XnliTsv.NliLabelNames).ToArray();
        var index = XnliTsv.LabelIndex(names);
        var examples = new List<(string, string, int)>();
        int row = 0;
        foreach (var (premise, hypothesis, label) in rows)
        {
            if (string.IsNullOrWhiteSpace(premise)) throw new ArgumentException($"{source}: example {row} has an empty premise.", nameof(rows));
            if (string.IsNullOrWhiteSpace(hypothesis)) throw new ArgumentException($"{source}: example {row} has an empty hypothesis.", nameof(rows));
            if (label is null || !index.TryGetValue(label.Trim(), out int id))
                throw new InvalidDataException($"{source}: example {row} has label '{label}', which is not in the label set {{{string.Join(", ", names)}}}.");
            examples.Add((premise, hypothesis, id));
            row++;
        }
        return new LabelledPairs(source, names, examples);
    }
}

/// <summary>
/// Reads XNLI/MNLI-style tab-separated files: premise, hypothesis, label.
/// <list type="bullet">
/// <item>Header: if the first line names the columns (<c>premise/hypothesis/label</c> or
/// <c>text_a/text_b/label</c>, any case, any order, extra columns allowed) they are found by name;
/// otherwise there is no header and the columns are 0, 1, 2.</item>
/// <item>Blank lines are skipped. Fields are not quoted (XNLI/XTREME files are not), so a
/// quotation mark is text.</item>
/// <item>Labels are matched to the label set ordinally, ignoring case and surrounding spaces. A label
/// outside the set is an error (<see cref="InvalidDataException"/> naming the file, line, label and
/// the known set): silently dropping or remapping rows would change the evaluation set.</item>
/// <item>A line with too few columns, or an empty premise or hypothesis, is an error naming the file
/// and line. A file with no example is an error.</item>
/// </list>
/// </summary>
internal static class XnliTsv
{
    /// <summary>The XNLI/MNLI label set, in this order (0 = entailment, 1 = neutral, 2 = contradiction).</summary>
    public static IReadOnlyList<string> NliLabelNames { get; } = ["entailment", "neutral", "contradiction"];

    private static readonly string[] PremiseNames = ["premise", "text_a", "sentence1"];
    private static readonly string[] HypothesisNames = ["hypothesis", "text_b", "sentence2"];
    private static readonly string[] LabelNames = ["label", "gold_label"];

    /// <summary>Loads <paramref name="path"/> with labels from <paramref name="labelNames"/> (default: <see cref="NliLabelNames"/>), at most <paramref name="maxExamples"/> examples (null: all).</summary>
    public static LabelledPairs Load(string path, IReadOnlyList<string>? labelNames = null, int? maxExamples = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"XNLI/MNLI file not found: {path}", path);
        using var reader = new StreamReader(path);
        return Read(reader, path, labelNames, maxExamples);
    }

    /// <summary>Parses TSV text from <paramref name="reader"/>; <paramref name="source"/> names it in errors.</summary>
    public static LabelledPairs Read(TextReader reader, string source, IReadOnlyList<string>? labelNames = null, int? maxExamples = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (maxExamples is < 0) throw new ArgumentOutOfRangeException(nameof(maxExamples), maxExamples, "maxExamples must be >= 0.");
        var names = (labelNames ?? NliLabelNames).ToArray();
        var index = LabelIndex(names);
        var examples = new List<(string, string, int)>();
        int premiseColumn = 0, hypothesisColumn = 1, labelColumn = 2;
        int lineNumber = 0;
        bool first = true;
        string? line;
        while ((line = reader.ReadLine()) is not null && (maxExamples is null || examples.Count < maxExamples))
        {
            lineNumber++;
            if (line.Length == 0 || string.IsNullOrWhiteSpace(line)) continue;
            string[] columns = line.Split('\t');
            if (first)
            {
                first = false;
                if (TryHeader(columns, source, out var header))
                {
                    (premiseColumn, hypothesisColumn, labelColumn) = header;
                    continue;
                }
            }
            int needed = Math.Max(premiseColumn, Math.Max(hypothesisColumn, labelColumn)) + 1;
            if (columns.Length < needed)
                throw new InvalidDataException($"{source}, line {lineNumber}: expected at least {needed} tab-separated columns (premise, hypothesis, label), found {columns.Length}.");
            string premise = columns[premiseColumn], hypothesis = columns[hypothesisColumn], label = columns[labelColumn].Trim();
            if (string.IsNullOrWhiteSpace(premise)) throw new InvalidDataException($"{source}, line {lineNumber}: the premise is empty.");
            if (string.IsNullOrWhiteSpace(hypothesis)) throw new InvalidDataException($"{source}, line {lineNumber}: the hypothesis is empty.");
            if (!index.TryGetValue(label, out int id))
                throw new InvalidDataException($"{source}, line {lineNumber}: label '{label}' is not in the label set {{{string.Join(", ", names)}}}.");
            examples.Add((premise, hypothesis, id));
        }
        if (examples.Count == 0 && maxExamples != 0) throw new InvalidDataException($"{source}: no examples (the file is empty or has only a header).");
        return new LabelledPairs(source, names, examples);
    }

    internal static Dictionary<string, int> LabelIndex(IReadOnlyList<string> names)
    {
        if (names.Count < 2) throw new ArgumentException("A label set needs at least 2 labels.", nameof(names));
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i])) throw new ArgumentException($"Label name {i} is blank.", nameof(names));
            if (!index.TryAdd(names[i].Trim(), i)) throw new ArgumentException($"Label name '{names[i]}' appears twice.", nameof(names));
        }
        return index;
    }

    private static bool TryHeader(string[] columns, string source, out (int Premise, int Hypothesis, int Label) header)
    {
        int Find(string[] candidates) => Array.FindIndex(columns, c => candidates.Contains(c.Trim(), StringComparer.OrdinalIgnoreCase));
        int p = Find(PremiseNames), h = Find(HypothesisNames), l = Find(LabelNames);
        header = (p, h, l);
        if (p < 0 && h < 0 && l < 0) return false;
        // A header that names some but not all of the columns is a malformed file, not data.
        if (p < 0 || h < 0 || l < 0)
            throw new InvalidDataException($"{source}, line 1: the header [{string.Join(", ", columns)}] lacks a {(p < 0 ? "premise (premise/text_a)" : h < 0 ? "hypothesis (hypothesis/text_b)" : "label")} column.");
        return true;
    }
}
