using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Cli.Reporting;
using MLNetForgetting.Evaluation;
using MLNetForgetting.MLNet;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.SelfTraining;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf evaluate</c>: accuracy, macro-F1 and confusion of classifiers on labelled TSVs, one row per language.</summary>
public static class EvaluateCommand
{
    /// <summary>A classifier zip as evaluation sees it: the component, its label names and how many sentences it reads.</summary>
    public sealed record Classifier(string Name, TorchRowTransformer Model, IReadOnlyList<string> LabelNames)
    {
        /// <summary>1 for single-sentence (LiST) models, 2 for sentence pairs.</summary>
        public int Sentences => Model.InputColumns.Count;
    }

    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var models = new Option<string[]>("--model", "-m")
        {
            Description = "A classifier zip (from finetune, assemble or list); repeat for several", Required = true, HelpName = "path", AllowMultipleArgumentsPerToken = true,
        };
        var tests = new Option<string[]>("--test", "-t")
        {
            Description = "Labelled TSV, optionally prefixed by its language: de=dev.de.tsv (default: the code in a name like dev.de.tsv, else the file name); repeat for several",
            Required = true, HelpName = "[code=]path", AllowMultipleArgumentsPerToken = true,
        };
        var output = CliOptions.Output("--output", "Report to write: <path>.md (table and confusion matrices) and <path>.csv", aliases: "-o");
        var maxExamples = CliOptions.OptionalNumber<int>("--max-examples", "Evaluate only the first N rows of each TSV").AtLeast(1);

        var command = new Command("evaluate", "Evaluate classifiers on labelled TSVs (XNLI-style pairs, or single sentences for LiST models): one model on every TSV, or models and TSVs paired in order. Prints a per-language table and writes it as Markdown and CSV.")
        {
            models, tests, output, maxExamples,
        };
        command.WithExamples(
            "mlnf evaluate --model nli-de.zip --model nli-sw.zip --test ../shared/data/xnli/dev/dev.de.tsv --test ../shared/data/xnli/dev/dev.sw.tsv --output eval",
            "mlnf evaluate --model nli-forget.zip --test en=mnli-dev.tsv --output eval-en",
            "mlnf evaluate --model sst2-list.zip --test ../shared/data/list/SST-2/test_clue.tsv --output sst2");

        return host.SetAction(command, (parse, context) =>
        {
            var ml = context.CreateMLContext(seed: 0);
            var modelPaths = parse.GetValue(models)!;
            var testSpecs = parse.GetValue(tests)!.Select(ParseTest).ToArray();
            if (modelPaths.Length > 1 && testSpecs.Length > 1 && modelPaths.Length != testSpecs.Length)
                throw new CliUsageException($"{modelPaths.Length} --model and {testSpecs.Length} --test: give one model, one test, or as many models as tests (paired in order)");
            foreach (var (_, path) in testSpecs) PathChecks.InputFile(path, "--test");
            string stem = OutputStem(parse.GetValue(output)!);
            string markdownPath = PathChecks.OutputFile(stem + ".md", "--output"), csvPath = PathChecks.OutputFile(stem + ".csv", "--output");

            var loaded = modelPaths.Select(p => Load(ml, p, "--model")).ToArray();
            var jobs = modelPaths.Length == testSpecs.Length
                ? loaded.Zip(testSpecs).ToArray()
                : loaded.SelectMany(m => testSpecs.Select(t => (m, t))).ToArray();
            var table = new ReportTable("Evaluation", "language", "model", "examples", "accuracy %", "macro-F1 %");
            var reports = new Dictionary<string, ClassificationReport>(StringComparer.Ordinal);
            foreach (var (model, (language, path)) in jobs)
            {
                if (!reports.TryGetValue(model.Name, out var report)) reports[model.Name] = report = new ClassificationReport(model.LabelNames);
                var rows = LoadRows(path, "--test", model, parse.GetValue(maxExamples));
                var result = Score(ml, model, rows, language, report);
                table.Add(language, model.Name, result.Count.ToString(CultureInfo.InvariantCulture), Percent(result.Accuracy), Percent(result.MacroF1));
            }

            context.Console.Write(table.ToSpectre());
            var markdown = new StringBuilder(table.ToMarkdown());
            foreach (var (name, report) in reports) markdown.Append("\n### ").Append(name).Append("\n\n").Append(report.ToMarkdown());
            File.WriteAllText(markdownPath, markdown.ToString());
            File.WriteAllText(csvPath, table.ToCsv());
            context.WriteLine($"Report: {markdownPath}, {csvPath}");
            return ExitCodes.Success;
        });
    }

    /// <summary>Accuracy and macro-F1 in percent with one decimal.</summary>
    public static string Percent(double value) => (100 * value).ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>Loads a classifier zip: a sentence-pair classifier or a LiST classifier.</summary>
    public static Classifier Load(MLContext ml, string path, string option)
    {
        var model = ModelFiles.LoadAny(ml, path, option, out _);
        string name = Path.GetFileName(path);
        if (ModelFiles.Find<PromptAdapterTransformer>(model) is { } list) return new Classifier(name, list, list.LabelNames);
        if (ModelFiles.Find<SentencePairClassifierTransformer>(model) is { } pair) return new Classifier(name, pair, pair.LabelNames);
        throw new CliUsageException($"{option} '{path}' holds {ModelFiles.Describe(model)}; expected a classifier (from finetune, assemble or list)");
    }

    /// <summary>Reads labelled rows for <paramref name="model"/>: XNLI-style pairs, or few-shot single sentences; labels must be the model's.</summary>
    internal static List<FewShotExample> LoadRows(string path, string option, Classifier model, int? maxExamples = null)
    {
        if (model.Sentences == 2)
        {
            var pairs = PairData.LoadPairs(path, option, model.LabelNames, maxExamples);
            return pairs.Examples.Select(e => new FewShotExample([e.Premise, e.Hypothesis], pairs.LabelNames[e.Label])).ToList();
        }
        var rows = PairData.LoadFewShot(path, option, 1, labelled: true);
        var known = new HashSet<string>(model.LabelNames, StringComparer.Ordinal);
        if (rows.FirstOrDefault(r => !known.Contains(r.Label!)) is { } bad)
            throw new CliUsageException($"{option} '{path}': label '{bad.Label}' is not one of the model's labels ({string.Join(", ", model.LabelNames)})");
        return maxExamples is { } max ? rows.Take(max).ToList() : rows;
    }

    /// <summary>Scores <paramref name="rows"/> through ML.NET (Transform, then the score column) and adds them to <paramref name="report"/> as <paramref name="language"/>.</summary>
    internal static LanguageResult Score(MLContext ml, Classifier model, IReadOnlyList<FewShotExample> rows, string language, ClassificationReport report)
    {
        IDataView data = PairData.ToDataView(ml, rows, model.LabelNames);
        // The tool's classifiers read Sentence1/Sentence2; a model trained through the API may use other names.
        string[] ours = [PairData.Sentence1, PairData.Sentence2];
        for (int i = 0; i < model.Sentences; i++)
            if (model.Model.InputColumns[i].Name != ours[i])
                data = ml.Transforms.CopyColumns(model.Model.InputColumns[i].Name, ours[i]).Fit(data).Transform(data);
        var scored = model.Model.Transform(data);
        var probabilities = scored.GetColumn<float[]>(model.Model.OutputColumns[0].Name).ToList();
        var index = model.LabelNames.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        return report.Add(language, rows.Select(r => index[r.Label!]).ToArray(), probabilities);
    }

    /// <summary>"de=path" → (de, path); "path/dev.de.tsv" → (de, path); otherwise the file name without extension.</summary>
    public static (string Language, string Path) ParseTest(string spec)
    {
        int eq = spec.IndexOf('=', StringComparison.Ordinal);
        // "C:\x" or a path containing '=' after a separator is a path, not code=path.
        if (eq > 0 && spec.IndexOfAny(['/', '\\']) is var slash && (slash < 0 || slash > eq))
            return (LanguageCodes.Check(spec[..eq], "--test"), spec[(eq + 1)..]);
        var parts = Path.GetFileNameWithoutExtension(spec).Split('.');
        if (parts.Length > 1 && LanguageCodes.IsKnown(parts[^1])) return (parts[^1].ToLowerInvariant(), spec);
        return (Path.GetFileNameWithoutExtension(spec), spec);
    }

    /// <summary>"eval", "eval.md" and "eval.csv" all mean the pair eval.md + eval.csv.</summary>
    public static string OutputStem(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".md" or ".csv" ? Path.ChangeExtension(path, null)! : path;
}
