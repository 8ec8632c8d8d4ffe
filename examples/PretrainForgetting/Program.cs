// Pretrains a standard (K = 0) and an active-forgetting (K > 0) model on the same English text, with
// the same seed and budget, and prints both histories: loss per episode and the resets.
//
//   dotnet run -c Release --project examples/PretrainForgetting                          # built-in synthetic English
//   dotnet run -c Release --project examples/PretrainForgetting -- --data ../shared/data/raw/en [--steps 600] [--k 60] [--lines 20000] [--preset Tiny] [--out out/pretrain]
using System.CommandLine;
using Microsoft.ML;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Training;

var dataOption = new Option<string?>("--data") { Description = "Folder of English *.txt files (default: the built-in synthetic English corpus)" };
var stepsOption = new Option<long>("--steps") { Description = "Updates per model", DefaultValueFactory = _ => 400 };
var kOption = new Option<long>("--k") { Description = "Reset interval K of the forgetting model", DefaultValueFactory = _ => 20 };
var linesOption = new Option<int>("--lines") { Description = "First non-empty lines to train on", DefaultValueFactory = _ => 20_000 };
var presetOption = new Option<string>("--preset") { Description = "Model size preset", DefaultValueFactory = _ => "Tiny" };
presetOption.AcceptOnlyFromAmong("Tiny", "Small", "Base");
var outOption = new Option<string>("--out") { Description = "Folder for the histories (CSV) and models (zip)", DefaultValueFactory = _ => Path.Combine("out", "pretrain") };
var root = new RootCommand("Pretrains a standard (K = 0) and an active-forgetting (K > 0) model on the same English text and prints both histories.")
{
    dataOption, stepsOption, kOption, linesOption, presetOption, outOption,
};
root.SetAction(parse => Run(parse.GetValue(dataOption), parse.GetValue(stepsOption), parse.GetValue(kOption), parse.GetValue(linesOption), parse.GetValue(presetOption)!, parse.GetValue(outOption)!));
return root.Parse(args).Invoke();

static int Run(string? data, long steps, long k, int maxLines, string preset, string output)
{
    IEnumerable<string> lines;
    if (data is null)
    {
        Console.WriteLine("Data: the built-in synthetic English corpus (pass --data ../shared/data/raw/en for real English).");
        lines = new SyntheticTestbed().UnlabelledCorpus("en", maxLines, seed: 0);
    }
    else
    {
        if (!Directory.Exists(data)) { Console.Error.WriteLine($"error: data folder '{data}' does not exist"); return 2; }
        Console.WriteLine($"Data: *.txt in {Path.GetFullPath(data)} (first {maxLines} non-empty lines)");
        lines = Directory.GetFiles(data, "*.txt").Order(StringComparer.Ordinal).SelectMany(File.ReadLines)
            .Where(l => !string.IsNullOrWhiteSpace(l)).Take(maxLines);
    }

    var ml = new MLContext(seed: 1);
    var text = ml.Data.LoadFromEnumerable(lines.Select(l => new Sentence { Text = l }).ToList());
    Directory.CreateDirectory(output);

    foreach (long resetInterval in new[] { 0L, k })
    {
        string name = resetInterval == 0 ? "standard" : $"forgetting-K{resetInterval}";
        var options = new ActiveForgettingPretrainer.Options
        {
            ModelPreset = preset, MaxSteps = steps, ResetInterval = resetInterval, BatchSize = 32, MaxSequenceLength = 64,
            VocabularySize = 2000, LearningRate = 2e-3, EmbeddingLearningRate = 2e-3, Seed = 42,
            Progress = new ConsoleProgress(name),
        };
        var model = ml.Transforms.Text.ActiveForgettingPretrainer(options).Fit(text);
        Console.WriteLine();
        Console.WriteLine($"== {name}: {model.History.Steps.Count} updates, {model.History.Events.Count} resets");
        foreach (var (episode, loss) in model.History.LossPerEpisode(resetInterval == 0 ? steps / 10 : resetInterval))
            Console.WriteLine($"   updates {episode * (resetInterval == 0 ? steps / 10 : resetInterval) + 1,5}-{(episode + 1) * (resetInterval == 0 ? steps / 10 : resetInterval),5}: mean MLM loss {loss:F3}");
        model.ExportHistory(Path.Combine(output, name + ".csv"));
        ml.Model.SaveAtomic(model, text.Schema, Path.Combine(output, name + ".zip"));
        Console.WriteLine($"   history: {Path.Combine(output, name + ".csv")}, model: {Path.Combine(output, name + ".zip")}");
    }
    return 0;
}

internal sealed class Sentence
{
    public string Text { get; set; } = "";
}

/// <summary>A one-line progress display on the console (step, loss, tokens/s, ETA).</summary>
internal sealed class ConsoleProgress(string name) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p)
    {
        if (p.Step % 10 != 0 && p.Step != p.TotalSteps) return;
        Console.Write($"\r{name}: {p.Step}/{p.TotalSteps} loss {p.Loss:F3} {p.TokensPerSecond:F0} tok/s ETA {p.EstimatedRemaining:mm\\:ss}   ");
    }
}
