using System.Globalization;
using System.Text;
using Microsoft.Data.Analysis;

namespace MLNetForgetting.Evaluation;

/// <summary>Accuracy, macro-F1 and the confusion matrix of one evaluation set (one language).</summary>
public sealed class LanguageResult
{
    internal LanguageResult(string language, IReadOnlyList<string> labelNames, long[,] confusion)
    {
        Language = language;
        LabelNames = labelNames;
        Confusion = confusion;
        int k = labelNames.Count;
        long total = 0, correct = 0;
        double f1Sum = 0;
        for (int c = 0; c < k; c++)
        {
            long tp = confusion[c, c], goldC = 0, predC = 0;
            for (int j = 0; j < k; j++) { goldC += confusion[c, j]; predC += confusion[j, c]; total += confusion[c, j]; }
            correct += tp;
            // F1 of a class that is neither present nor predicted is 0 here (sklearn's zero_division=0); it still counts in the mean.
            f1Sum += goldC + predC == 0 ? 0 : 2.0 * tp / (goldC + predC);
        }
        Count = total;
        Accuracy = total == 0 ? double.NaN : (double)correct / total;
        MacroF1 = f1Sum / k;
    }

    public string Language { get; }
    public IReadOnlyList<string> LabelNames { get; }
    /// <summary>Confusion[gold, predicted] counts.</summary>
    public long[,] Confusion { get; }
    public long Count { get; }
    public double Accuracy { get; }
    /// <summary>Unweighted mean over classes of F1 = 2·TP / (gold + predicted).</summary>
    public double MacroF1 { get; }
}

/// <summary>
/// Per-language classification results (XNLI zero-shot evaluation): accuracy, macro-F1 and a
/// confusion matrix per language, as a <see cref="DataFrame"/> with one row per language, Markdown or CSV.
/// </summary>
public sealed class ClassificationReport
{
    private readonly List<LanguageResult> results = new();

    /// <param name="labelNames">Class names, indexed by label id; every added result uses this set.</param>
    public ClassificationReport(IReadOnlyList<string> labelNames)
    {
        ArgumentNullException.ThrowIfNull(labelNames);
        XnliTsv.LabelIndex(labelNames); // validates: >= 2 distinct non-blank names
        LabelNames = labelNames.ToArray();
    }

    public IReadOnlyList<string> LabelNames { get; }
    public IReadOnlyList<LanguageResult> Results => results;

    /// <summary>The result for <paramref name="language"/>.</summary>
    public LanguageResult this[string language] =>
        results.FirstOrDefault(r => r.Language == language) ?? throw new KeyNotFoundException($"No result for language '{language}'. Languages: {string.Join(", ", results.Select(r => r.Language))}.");

    /// <summary>Adds one language from gold and predicted label ids.</summary>
    /// <exception cref="ArgumentException">Lengths differ, the set is empty, the language is already present, or a label id is outside the label set (the message names the position and the set).</exception>
    public LanguageResult Add(string language, IReadOnlyList<int> gold, IReadOnlyList<int> predicted)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(language);
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        if (gold.Count != predicted.Count) throw new ArgumentException($"{language}: {gold.Count} gold labels but {predicted.Count} predictions.", nameof(predicted));
        if (gold.Count == 0) throw new ArgumentException($"{language}: nothing to evaluate.", nameof(gold));
        if (results.Any(r => r.Language == language)) throw new ArgumentException($"Language '{language}' is already in the report.", nameof(language));
        int k = LabelNames.Count;
        var confusion = new long[k, k];
        for (int i = 0; i < gold.Count; i++)
        {
            if ((uint)gold[i] >= (uint)k) throw new ArgumentException($"{language}: gold label {gold[i]} at position {i} is not in the label set 0..{k - 1} ({string.Join(", ", LabelNames)}).", nameof(gold));
            if ((uint)predicted[i] >= (uint)k) throw new ArgumentException($"{language}: predicted label {predicted[i]} at position {i} is not in the label set 0..{k - 1} ({string.Join(", ", LabelNames)}).", nameof(predicted));
            confusion[gold[i], predicted[i]]++;
        }
        var result = new LanguageResult(language, LabelNames, confusion);
        results.Add(result);
        return result;
    }

    /// <summary>Adds one language from gold labels and class probabilities (argmax; ties go to the lower id).</summary>
    public LanguageResult Add(string language, IReadOnlyList<int> gold, IReadOnlyList<float[]> probabilities)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        foreach (var p in probabilities)
            if (p is null || p.Length != LabelNames.Count) throw new ArgumentException($"{language}: every probability vector must have {LabelNames.Count} entries.", nameof(probabilities));
        return Add(language, gold, probabilities.Select(ArgMax).ToArray());
    }

    /// <summary>Index of the largest value (the first on ties).</summary>
    public static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>
    /// One row per language: <c>language</c>, <c>examples</c>, <c>accuracy</c>, <c>macro_f1</c>, then
    /// one count column per confusion cell named <c>gold_{g}_pred_{p}</c>.
    /// </summary>
    public DataFrame ToDataFrame()
    {
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("language", results.Select(r => r.Language)),
            new Int64DataFrameColumn("examples", results.Select(r => r.Count)),
            new DoubleDataFrameColumn("accuracy", results.Select(r => r.Accuracy)),
            new DoubleDataFrameColumn("macro_f1", results.Select(r => r.MacroF1)),
        };
        for (int g = 0; g < LabelNames.Count; g++)
            for (int p = 0; p < LabelNames.Count; p++)
            {
                int gg = g, pp = p;
                columns.Add(new Int64DataFrameColumn($"gold_{LabelNames[g]}_pred_{LabelNames[p]}", results.Select(r => r.Confusion[gg, pp])));
            }
        return new DataFrame(columns);
    }

    /// <summary>CSV (comma-separated, invariant culture, header row) of <see cref="ToDataFrame"/>.</summary>
    public string ToCsv()
    {
        using var stream = new MemoryStream();
        DataFrame.SaveCsv(ToDataFrame(), stream, ',', header: true, encoding: new UTF8Encoding(false), cultureInfo: CultureInfo.InvariantCulture);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>A summary table (accuracy and macro-F1 in %) followed by each language's confusion matrix (rows gold, columns predicted).</summary>
    public string ToMarkdown()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("| language | examples | accuracy | macro-F1 |\n|---|---|---|---|\n");
        foreach (var r in results)
            sb.Append(inv, $"| {r.Language} | {r.Count} | {100 * r.Accuracy:F1} | {100 * r.MacroF1:F1} |\n");
        foreach (var r in results)
        {
            sb.Append(inv, $"\n**{r.Language}** (rows: gold, columns: predicted)\n\n| |");
            foreach (var name in LabelNames) sb.Append(' ').Append(name).Append(" |");
            sb.Append("\n|---|").Append(string.Concat(Enumerable.Repeat("---|", LabelNames.Count))).Append('\n');
            for (int g = 0; g < LabelNames.Count; g++)
            {
                sb.Append("| ").Append(LabelNames[g]).Append(" |");
                for (int p = 0; p < LabelNames.Count; p++) sb.Append(inv, $" {r.Confusion[g, p]} |");
                sb.Append('\n');
            }
        }
        return sb.ToString();
    }
}
