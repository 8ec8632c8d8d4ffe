using Microsoft.ML;
using MLNetForgetting.Evaluation;
using MLNetForgetting.SelfTraining;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// Labelled text for the classifier commands: XNLI/MNLI-style sentence pairs (<see cref="XnliTsv"/>)
/// and few-shot rows (<see cref="FewShotData"/>), as ML.NET data views with the columns the tool's
/// classifiers use (<see cref="Sentence1"/>, <see cref="Sentence2"/>, <see cref="Label"/> as a key in a
/// fixed label order, so key k is label k - 1 in every view).
/// </summary>
public static class PairData
{
    /// <summary>Column names of every classifier the tool trains.</summary>
    public const string Sentence1 = "Sentence1", Sentence2 = "Sentence2", Label = "Label", Score = "Score";

    /// <summary>Reads an XNLI/MNLI TSV; a wrong layout or an unknown label is a bad argument naming the file and line.</summary>
    internal static LabelledPairs LoadPairs(string? path, string option, IReadOnlyList<string>? labelNames = null, int? maxExamples = null)
    {
        string file = PathChecks.InputFile(path, option);
        try
        {
            return XnliTsv.Load(file, labelNames, maxExamples);
        }
        catch (InvalidDataException e)
        {
            throw new CliUsageException($"{option}: {ErrorReporter.OneLine(e.Message).TrimEnd('.')}", e);
        }
    }

    /// <summary>Reads a few-shot TSV (header with text / text_a, text_b, label); bad layouts are bad arguments.</summary>
    internal static List<FewShotExample> LoadFewShot(string? path, string option, int sentences, bool labelled)
    {
        string file = PathChecks.InputFile(path, option);
        List<FewShotExample> rows;
        try
        {
            rows = FewShotData.ReadTsv(file);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or ArgumentException)
        {
            throw new CliUsageException($"{option}: {ErrorReporter.OneLine(e.Message).TrimEnd('.')}", e);
        }
        if (rows.Count == 0) throw new CliUsageException($"{option} '{path}' has no rows");
        if (rows[0].Texts.Count < sentences)
            throw new CliUsageException($"{option} '{path}' has {rows[0].Texts.Count} text column(s); the task reads {sentences} (columns text_a and text_b)");
        if (labelled && rows.FirstOrDefault(r => string.IsNullOrWhiteSpace(r.Label)) is { } unlabelled)
            throw new CliUsageException($"{option} '{path}' has a row without a label ('{unlabelled.Texts[0]}'); expected a 'label' column");
        return rows;
    }

    /// <summary>Sentence pairs as a view: Sentence1, Sentence2, Label (key over <see cref="LabelledPairs.LabelNames"/>).</summary>
    internal static IDataView ToDataView(MLContext ml, LabelledPairs pairs) =>
        ToDataView(ml, pairs.Examples.Select(e => new FewShotExample([e.Premise, e.Hypothesis], pairs.LabelNames[e.Label])), pairs.LabelNames);

    /// <summary>Rows as a view: Sentence1, Sentence2 (empty for single sentences), Label (key over <paramref name="labelNames"/>; unlabelled rows get a missing key).</summary>
    internal static IDataView ToDataView(MLContext ml, IEnumerable<FewShotExample> rows, IReadOnlyList<string> labelNames)
    {
        var view = ml.Data.LoadFromEnumerable(rows.Select(r => new PairRow
        {
            Sentence1 = r.Texts[0], Sentence2 = r.Texts.Count > 1 ? r.Texts[1] : "", Label = r.Label ?? "",
        }).ToList());
        var keys = ml.Data.LoadFromEnumerable(labelNames.Select(n => new LabelRow { Label = n }).ToList()); // one column: the key order
        return ml.Transforms.Conversion.MapValueToKey(Label, keyData: keys).Fit(view).Transform(view);
    }

    /// <summary>Label names from a comma-separated option value ("entailment,neutral,contradiction").</summary>
    public static IReadOnlyList<string> ParseLabels(string value, string option)
    {
        var names = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length < 2) throw new CliUsageException($"{option} needs at least two comma-separated labels, got '{value}'");
        if (names.Distinct(StringComparer.OrdinalIgnoreCase).Count() != names.Length) throw new CliUsageException($"{option} names a label twice: '{value}'");
        return names;
    }
}

/// <summary>A labelled row (public because ML.NET binds the row type by reflection).</summary>
public sealed class PairRow
{
    /// <summary>First sentence (premise).</summary>
    public string Sentence1 { get; set; } = "";
    /// <summary>Second sentence (hypothesis), empty for single-sentence tasks.</summary>
    public string Sentence2 { get; set; } = "";
    /// <summary>The label as text.</summary>
    public string Label { get; set; } = "";
}

/// <summary>A label value alone: MapValueToKey's key data must have exactly one column.</summary>
public sealed class LabelRow
{
    /// <summary>The label as text.</summary>
    public string Label { get; set; } = "";
}
