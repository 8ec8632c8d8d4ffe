using System.Globalization;
using Microsoft.ML;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Training;

namespace MLNetForgetting.Cli.Reporting;

/// <summary>
/// Reads a <see cref="TrainingHistory"/> from what the tool writes: the CSV of
/// <see cref="TrainingHistory.ToCsv"/>, the JSON of <see cref="TrainingHistory.ToJson"/>, or the
/// history carried inside a model zip.
/// </summary>
public static class HistoryFiles
{
    /// <summary>Loads the history in <paramref name="path"/> (.csv, .json or .zip).</summary>
    public static TrainingHistory Load(MLContext ml, string path)
    {
        string file = PathChecks.InputFile(path, "--history");
        string extension = Path.GetExtension(file).ToLowerInvariant();
        try
        {
            return extension switch
            {
                ".csv" => FromCsv(File.ReadLines(file), file),
                ".json" => TrainingHistory.FromJson(File.ReadAllText(file)),
                ".zip" => FromModel(ml, file),
                _ => throw new CliUsageException($"'{path}' is not a training history: expected a .csv or .json history or a model .zip"),
            };
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a training history JSON ({ErrorReporter.OneLine(e.Message)})", e);
        }
    }

    // Any of our zips carries the history of its last training run.
    private static TrainingHistory FromModel(MLContext ml, string file)
    {
        var model = ModelFiles.LoadAny(ml, file, "--history", out _);
        return ModelFiles.Find<LanguageModelTransformer>(model)?.History
            ?? ModelFiles.Find<SentencePairClassifierTransformer>(model)?.History
            ?? throw new InvalidDataException($"the model in '{file}' has no training history (no language model or sentence-pair classifier in it)");
    }

    /// <summary>Parses the CSV written by <see cref="TrainingHistory.ToCsv"/>: step, loss, tokens_per_second, lr_*, event, val_*.</summary>
    public static TrainingHistory FromCsv(IEnumerable<string> lines, string name)
    {
        using var e = lines.GetEnumerator();
        if (!e.MoveNext()) throw new InvalidDataException($"'{name}' is empty; expected a training history CSV");
        var header = e.Current.TrimStart('\uFEFF').Split(',');
        int Index(string column) => Array.IndexOf(header, column);
        int step = Index("step"), loss = Index("loss"), tps = Index("tokens_per_second"), events = Index("event");
        if (step < 0 || loss < 0)
            throw new InvalidDataException($"'{name}' is not a training history CSV: it needs columns 'step' and 'loss'; its header is '{e.Current}'");
        var rates = header.Select((h, i) => (h, i)).Where(x => x.h.StartsWith("lr_", StringComparison.Ordinal)).ToArray();
        var metrics = header.Select((h, i) => (h, i)).Where(x => x.h.StartsWith("val_", StringComparison.Ordinal)).ToArray();
        var history = new TrainingHistory();
        var inv = CultureInfo.InvariantCulture;
        for (int lineNumber = 2; e.MoveNext(); lineNumber++)
        {
            if (e.Current.Length == 0) continue;
            var f = e.Current.Split(',');
            if (f.Length != header.Length)
                throw new InvalidDataException($"'{name}' line {lineNumber} has {f.Length} fields; the header has {header.Length}");
            double Number(int i)
            {
                if (!double.TryParse(f[i], NumberStyles.Float, inv, out var x))
                    throw new InvalidDataException($"'{name}' line {lineNumber}: '{f[i]}' in column '{header[i]}' is not a number");
                return x;
            }
            long s = (long)Number(step);
            history.Steps.Add(new StepRecord(s, Number(loss), tps >= 0 ? Number(tps) : 0,
                rates.Where(r => f[r.i].Length > 0).ToDictionary(r => r.h[3..], r => Number(r.i))));
            if (events >= 0 && f[events].Length > 0)
                foreach (var kind in f[events].Split('|')) history.Events.Add(new TrainingEvent(s, kind));
            var values = metrics.Where(m => f[m.i].Length > 0).ToDictionary(m => m.h[4..], m => Number(m.i));
            if (values.Count > 0) history.Validations.Add(new ValidationRecord(s, values));
        }
        return history;
    }
}
