// Predicts with a sentence-pair classifier zip through the Model Builder-style consumption code
// (SentencePairModel.consumption.cs).
//
//   dotnet run -c Release --project examples/ConsumeModel -- --model nli.zip "premise" "hypothesis" ["premise" "hypothesis" ...]
//   dotnet run -c Release --project examples/ConsumeModel        # no zip given: trains a small one on the synthetic testbed
//                                                                # into out/consume/synthetic-nli.zip (reused next time; --rebuild)
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ConsumeModel;
using MLNetForgetting.Synthetic;

var modelOption = new Option<string?>("--model") { Description = "A sentence-pair classifier zip (default: train a small one on the synthetic testbed into out/consume/synthetic-nli.zip)", HelpName = "nli.zip" };
var rebuildOption = new Option<bool>("--rebuild") { Description = "Train the synthetic sample model again even if its zip exists" };
var sentencesArgument = new Argument<string[]>("sentences") { Description = "Pairs to classify: premise hypothesis [premise hypothesis ...]", Arity = ArgumentArity.ZeroOrMore };
var root = new RootCommand("Predicts with a sentence-pair classifier zip through the Model Builder-style consumption code.") { modelOption, rebuildOption, sentencesArgument };
root.SetAction(parse => Run(parse.GetValue(modelOption), parse.GetValue(rebuildOption), parse.GetValue(sentencesArgument) ?? []));
return root.Parse(args).Invoke();

static int Run(string? modelPath, bool rebuild, IReadOnlyList<string> sentences)
{
    // Unknown options would otherwise be taken for sentences.
    if (sentences.FirstOrDefault(s => s.StartsWith("--", StringComparison.Ordinal)) is { } unknown) return Usage($"unknown option '{unknown}'");
    if (sentences.Count % 2 != 0) return Usage($"sentences come in pairs (premise, hypothesis); got {sentences.Count}");
    if (modelPath is not null && sentences.Count == 0) return Usage("give at least one pair of sentences to classify");

    try
    {
        var pairs = Enumerable.Range(0, sentences.Count / 2)
            .Select(i => new SentencePairModel.ModelInput { Sentence1 = sentences[2 * i], Sentence2 = sentences[2 * i + 1] }).ToList();
        if (modelPath is null)
        {
            Console.WriteLine("""
                No --model given. A sentence-pair classifier zip comes from
                  mlnf finetune   (task adaptation of a pretrained model, e.g. on English MNLI), or
                  mlnf assemble   (the zero-shot classifier for another language),
                or from the library: SentencePairClassification(...).Fit(...) / Assemble(...) and mlContext.Model.Save.
                This run makes a small one from the built-in synthetic testbed instead.
                """);
            modelPath = Path.Combine("out", "consume", "synthetic-nli.zip");
            if (rebuild || !File.Exists(modelPath))
            {
                var clock = Stopwatch.StartNew();
                SyntheticSampleModel.Build(modelPath, SyntheticSampleModel.Budget.Demo, log: message => Console.WriteLine("  " + message));
                Console.WriteLine($"  wrote {modelPath} in {clock.Elapsed.TotalSeconds:F0} s");
            }
            else Console.WriteLine($"  reusing {modelPath} (--rebuild trains it again)");
            Console.WriteLine();
        }

        SentencePairModel.MLNetModelPath = modelPath;
        if (pairs.Count > 0)
        {
            foreach (var pair in pairs) Print(pair, expected: null);
            return 0;
        }

        // The synthetic demo: a few dev pairs with the oracle's label, then accuracy over more of them.
        var dev = SyntheticSampleModel.Pairs(new SyntheticTestbed(), 300, SyntheticTestbed.DatasetDevSeed);
        foreach (var pair in dev.Take(5)) Print(pair, expected: pair.Label);
        var timer = Stopwatch.StartNew();
        int correct = dev.Count(pair => SentencePairModel.Predict(pair).PredictedLabel == pair.Label);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Accuracy on {dev.Count} synthetic dev pairs: {(double)correct / dev.Count:F3} (chance 0.333); {timer.Elapsed.TotalMilliseconds / dev.Count:F1} ms per Predict call"));
        return 0;
    }
    catch (Exception e) when (e is FileNotFoundException or InvalidDataException or InvalidOperationException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}

static void Print(SentencePairModel.ModelInput pair, string? expected)
{
    var output = SentencePairModel.Predict(pair);
    var scores = string.Join(", ", SentencePairModel.GetSortedScoresWithLabels(output).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} {s.Value:F3}")));
    Console.WriteLine($"  {pair.Sentence1}  |  {pair.Sentence2}");
    Console.WriteLine($"    → {output.PredictedLabel} ({scores}){(expected is null ? "" : $"; oracle: {expected}")}");
}

static int Usage(string problem)
{
    Console.Error.WriteLine($"error: {problem}");
    Console.Error.WriteLine("usage: ConsumeModel [--model nli.zip \"premise\" \"hypothesis\" [\"premise\" \"hypothesis\" ...]] [--rebuild] (--help for more)");
    return 2;
}
