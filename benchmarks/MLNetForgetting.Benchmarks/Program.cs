// Benchmarks of MLNetForgetting: one verb per benchmark. Each prints one result line and appends a
// JSON line to benchmarks/results/results.jsonl; docs/benchmarks.md shows the latest figures.
//
//   dotnet run -c Release --project benchmarks/MLNetForgetting.Benchmarks -- <verb> [options]
using MLNetForgetting.Benchmarks;

var verbs = new Dictionary<string, Func<string[], int>>(StringComparer.OrdinalIgnoreCase)
{
    ["tokenizer"] = TokenizerThroughput.Run,
    ["forgetting-overhead"] = ForgettingOverhead.Run,
    ["list-meta-step"] = ListMetaStep.Run,
    ["mlnet-overhead"] = MLNetOverhead.Run,
    ["long-run-memory"] = LongRunMemory.Run,
    ["tokenizer-fuzz"] = TokenizerFuzz.Run,
    ["concurrency"] = ConcurrentServing.Run,
    ["vs-pytorch"] = VsPyTorch.Run,
    ["vs-pytorch-worker"] = VsPyTorch.RunWorker,
    ["step-profile"] = StepProfile.Run,
    ["unigram-entropy"] = UnigramEntropy.Run,
};
if (args.Length == 0 || !verbs.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine("usage: MLNetForgetting.Benchmarks <verb> [options]; verbs: " + string.Join(", ", verbs.Keys));
    return 2;
}
try { return run(args[1..]); }
catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
catch (InvalidOperationException e) { Console.Error.WriteLine(e.Message); return 1; } // handled, so cleanup (finally) runs
