// The unigram reference line of a masked-LM loss: the entropy (nats) of the token distribution of a text under a
// model's own tokenizer, and the cross-entropy of that text under the unigram distribution of a reference text
// (add-one smoothed). A masked LM that predicts every masked token from frequency alone scores about this loss:
// a model "below the plateau" has learned context.
//
//   dotnet run -c Release --project benchmarks/MLNetForgetting.Benchmarks -- unigram-entropy --model lm.zip
//       --input heldout.txt [--reference train-folder-or-file] [--max-mb 20] [--seq 128]
using System.Globalization;
using Microsoft.ML;
using MLNetForgetting.MLNet.Pretraining;

namespace MLNetForgetting.Benchmarks;

internal static class UnigramEntropy
{
    public static int Run(string[] args)
    {
        var options = Bench.Options(args, "model", "input", "reference", "max-mb", "seq");
        string? Arg(string name) => options.GetValueOrDefault(name[2..]);
        string model = Arg("--model") ?? throw new ArgumentException("--model is required (a language model zip)");
        string input = Arg("--input") ?? throw new ArgumentException("--input is required (a .txt file or a folder of them)");
        string? reference = Arg("--reference");
        long maxBytes = (long)(double.Parse(Arg("--max-mb") ?? "20", CultureInfo.InvariantCulture) * 1_000_000);
        int seq = int.Parse(Arg("--seq") ?? "128", CultureInfo.InvariantCulture);

        var lm = (LanguageModelTransformer)new MLContext(0).Model.Load(model, out _);
        var tokenizer = lm.Tokenizer;
        long[] Counts(string path)
        {
            var counts = new long[tokenizer.VocabSize];
            long bytes = 0;
            var files = Directory.Exists(path) ? Directory.GetFiles(path, "*.txt").Order(StringComparer.Ordinal).ToArray() : [path];
            foreach (var file in files)
                foreach (var line in File.ReadLines(file))
                {
                    if (string.IsNullOrWhiteSpace(line)) continue;
                    // The same truncation as training; special tokens are never masked, so they are not counted.
                    foreach (int id in tokenizer.EncodeSingle(line, seq)[1..^1]) counts[id]++;
                    if ((bytes += line.Length) >= maxBytes) return counts;
                }
            return counts;
        }

        var heldOut = Counts(input);
        double n = heldOut.Sum();
        double entropy = -heldOut.Where(c => c > 0).Sum(c => c / n * Math.Log(c / n));
        string line = $"unigram-entropy model={Path.GetFileName(model)} vocab={tokenizer.VocabSize} tokens={n:F0} entropy={entropy:F3} nats";
        if (reference is not null)
        {
            var train = Counts(reference);
            double total = train.Sum() + train.Length;
            double cross = -heldOut.Select((c, id) => c == 0 ? 0 : c / n * Math.Log((train[id] + 1) / total)).Sum();
            line += $" cross-entropy-under-reference={cross:F3} nats (reference tokens={train.Sum()})";
        }
        Console.WriteLine(line);
        return 0;
    }
}
