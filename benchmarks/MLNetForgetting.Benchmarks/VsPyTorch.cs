using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MLNetForgetting.Forgetting;
using MLNetForgetting.Modeling;
using MLNetForgetting.Runtime;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Benchmarks;

/// <summary>
/// Training and inference throughput of our pretrainer against a plain PyTorch script of the same
/// architecture (benchmarks/peer/roberta_peer.py), and the FP32 matmul peak, in one run.
///
/// The coordinator (this verb, no torch in its own process) tokenizes real English into batches of
/// exactly B × T tokens, starts one worker process per configuration (ours with and without the MKL
/// vendor shim, the PyTorch peer) and drives them round-robin over stdin/stdout, so every
/// configuration sees the same machine load; it reports medians and per-round ratios. Only one
/// worker computes at a time.
///
///   dotnet run -c Release --project benchmarks/MLNetForgetting.Benchmarks -- vs-pytorch
///       [--data ../shared/data/raw/en] [--rounds 5] [--train-steps 5] [--infer-steps 3] [--warmup 3]
///       [--batch 32] [--seq 128] [--infer-batch 64] [--configs ours,ours-mkl,peer] [--python /usr/bin/python3]
///       [--allow-slow-peer]
///
/// Before the first timed step every worker runs a few --matmul-n³ FP32 matmuls and the peer names the BLAS it
/// loaded; <see cref="PeerGuard"/> refuses to go on (exit 2) when the peer is on the reference BLAS or far
/// slower than us at that matmul. The peer's BLAS and matmul rate go into every result line.
/// </summary>
internal static class VsPyTorch
{
    // Model of issue 10: vocab 8192, hidden 256, 4 layers, 4 heads, FFN 1024.
    private const int Vocab = 8192, Hidden = 256, Layers = 4, Heads = 4, Ffn = 1024;

    /// <summary>
    /// Matmul FLOPs per token (multiply-add = 2): per layer 8d² (Q, K, V, output) + 4dF (FFN) + 4Td
    /// (scores and context); the MLM head 2d² + 2dV at the masked 15% of positions only (both programs
    /// project only masked positions). Training = 3 × forward (backward ≈ 2 × forward).
    /// </summary>
    public static double ForwardFlopsPerToken(int seq, bool mlmHead, double maskFraction = 0.15)
    {
        double layer = 8.0 * Hidden * Hidden + 4.0 * Hidden * Ffn + 4.0 * seq * Hidden;
        double head = mlmHead ? maskFraction * (2.0 * Hidden * Hidden + 2.0 * Hidden * Vocab) : 0;
        return Layers * layer + head;
    }

    public static int Run(string[] args)
    {
        bool allowSlowPeer = PeerGuard.TakeFlag(ref args);
        var o = Bench.Options(args, "data", "rounds", "train-steps", "infer-steps", "warmup", "batch", "seq", "infer-batch", "configs", "python", "peer", "results", "matmul-n");
        string data = o.GetValueOrDefault("data", "../shared/data/raw/en");
        int rounds = Int(o, "rounds", 5), trainSteps = Int(o, "train-steps", 5), inferSteps = Int(o, "infer-steps", 3), warmup = Int(o, "warmup", 3);
        int batch = Int(o, "batch", 32), seq = Int(o, "seq", 128), inferBatch = Int(o, "infer-batch", 64), matmulN = Int(o, "matmul-n", 2048);
        string python = o.GetValueOrDefault("python", "/usr/bin/python3");
        string peerScript = o.GetValueOrDefault("peer", "benchmarks/peer/roberta_peer.py");
        var configs = o.GetValueOrDefault("configs", "ours,ours-mkl,peer").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!Directory.Exists(data)) throw new ArgumentException($"Data folder '{data}' not found (use --data).");

        // Shared input: a BPE vocabulary of 8192 and sequences of exactly `seq` tokens (long paragraphs truncated).
        var lines = Directory.GetFiles(data, "*.txt").Order(StringComparer.Ordinal).SelectMany(File.ReadLines)
            .Where(l => l.Length > 200).Take(8_000).ToList();
        var tokenizer = BpeVocabularyTrainer.Train(lines, new BpeTrainerOptions { VocabSize = Vocab });
        var sequences = lines.Select(l => tokenizer.EncodeSingle(l, seq)).Where(s => s.Length == seq).Take(Math.Max(batch, inferBatch) * 16).ToList();
        if (sequences.Count < Math.Max(batch, inferBatch)) throw new ArgumentException($"Only {sequences.Count} paragraphs of {seq}+ tokens in '{data}'.");
        string work = Directory.CreateTempSubdirectory("mlnf-vs-pytorch-").FullName;
        foreach (var (name, bytes) in tokenizer.ToFiles()) File.WriteAllBytes(Path.Combine(work, name), bytes);
        using (var w = new BinaryWriter(File.Create(Path.Combine(work, "ids.bin"))))
            foreach (var s in sequences) foreach (int id in s) w.Write(id);
        var special = string.Join(",", tokenizer.SpecialIds.Order());
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("No process path.");
        string selfDll = typeof(VsPyTorch).Assembly.Location;
        string common = string.Create(CultureInfo.InvariantCulture, $"--work {work} --rows {sequences.Count} --seq {seq} --batch {batch} --infer-batch {inferBatch} --matmul-n {matmulN}");
        string shim = Path.Combine(AppContext.BaseDirectory, MklVendorShim.FileName);

        var workers = new List<Worker>();
        try
        {
            foreach (string c in configs)
            {
                var env = new Dictionary<string, string>();
                string file, arguments;
                switch (c)
                {
                    case "ours" or "ours-mkl" or "ours-explicit" or "ours-mkl-explicit" or "ours-mkl-malloc" or "ours-malloc" or "ours-bf16" or "ours-mkl-bf16":
                        env[MklVendorShim.Variable] = c.Contains("mkl") ? shim : "off";
                        if (c.EndsWith("malloc", StringComparison.Ordinal))
                        {
                            // glibc keeps freed blocks up to 32 MB in the heap instead of unmapping them, so the next
                            // step's tensors do not page-fault fresh zeroed memory (official glibc tunables).
                            env["MALLOC_MMAP_THRESHOLD_"] = "33554432";
                            env["MALLOC_TRIM_THRESHOLD_"] = "268435456";
                        }
                        if (c.Contains("mkl") && !File.Exists(shim)) throw new ArgumentException($"Config {c} needs {shim} (build with -p:MLNetForgettingMklVendorShim=true).");
                        (file, arguments) = self.EndsWith("dotnet", StringComparison.Ordinal) ? (self, $"\"{selfDll}\" ") : (self, "");
                        arguments += $"vs-pytorch-worker {common}" + (c.EndsWith("explicit", StringComparison.Ordinal) ? " --explicit-attention true" : "")
                            + (c.EndsWith("bf16", StringComparison.Ordinal) ? " --autocast bf16" : "");
                        break;
                    case "peer" or "peer-full-logits" or "peer-1thread" or "peer-skx":
                        // Debian's OpenBLAS (pthread build) when installed: python3-torch links the reference BLAS otherwise.
                        // A caller's own LD_LIBRARY_PATH wins (that is how a BLAS is chosen, or the reference one forced);
                        // either way the peer reports what it loaded and PeerGuard judges it.
                        string openblas = "/usr/lib/x86_64-linux-gnu/openblas-pthread";
                        if (Directory.Exists(openblas) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("LD_LIBRARY_PATH"))) env["LD_LIBRARY_PATH"] = openblas;
                        // OpenBLAS does not know Zen 5 and picks its Haswell (AVX2) kernels; its SkylakeX kernels use
                        // AVX-512 (official OPENBLAS_CORETYPE switch; only valid on CPUs with AVX-512).
                        if (c == "peer-skx") env["OPENBLAS_CORETYPE"] = "SkylakeX";
                        file = python;
                        arguments = $"\"{peerScript}\" {common} --special {special} --mask-id {tokenizer.MaskId} --pad-id {tokenizer.PadId} --threads {(c == "peer-1thread" ? 1 : Environment.ProcessorCount)}"
                            + (c == "peer-full-logits" ? " --full-logits" : "");
                        break;
                    default: throw new ArgumentException($"Unknown config '{c}'; known: ours, ours-mkl, ours-malloc, ours-mkl-malloc, ours-explicit, ours-mkl-explicit, peer, peer-skx, peer-full-logits, peer-1thread.");
                }
                workers.Add(Worker.Start(c, file, arguments, env));
            }
            foreach (var w in workers) Console.WriteLine($"{w.Name}: {w.Info}");

            // Before any timed step: is the peer fair? (its BLAS, and its matmul rate against ours on this machine)
            var preflight = workers.ToDictionary(w => w.Name, w => Bench.Median(w.Call("matmul 2").GetProperty("gflops").EnumerateArray().Select(e => e.GetDouble())));
            var ours = workers.Where(w => !IsPeer(w.Name)).Select(w => w.Name).ToList();
            double? oursRate = ours.Count == 0 ? null : ours.Contains("ours") ? preflight["ours"] : ours.Max(n => preflight[n]);
            var checks = workers.Where(w => IsPeer(w.Name)).ToDictionary(w => w.Name, w => PeerGuard.Judge(w.Name, w.Info, preflight[w.Name], oursRate, matmulN));
            foreach (var c in checks.Values) Console.WriteLine($"{c.Peer}: {c.Summary}{(c.Fair ? "" : "  " + c.Warning)}");
            if (checks.Values.Any(c => !c.Fair) && !allowSlowPeer)
            {
                Console.Error.WriteLine(PeerGuard.Refusal("vs-pytorch", checks.Values.Where(c => !c.Fair)));
                return 2;
            }

            foreach (var w in workers) { w.Call($"train {warmup}"); w.Call($"infer 1"); } // warm-up
            var train = workers.ToDictionary(w => w.Name, _ => new List<double>());
            var trainRound = workers.ToDictionary(w => w.Name, _ => new List<double>());
            var infer = workers.ToDictionary(w => w.Name, _ => new List<double>());
            var inferRound = workers.ToDictionary(w => w.Name, _ => new List<double>());
            var matmul = workers.ToDictionary(w => w.Name, _ => new List<double>());
            var matmulBf16 = new List<double>(); // our libtorch's bf16 product, for the autocast lever
            var losses = workers.ToDictionary(w => w.Name, _ => new List<double>());
            for (int r = 0; r < rounds; r++)
            {
                // Rotate the order each round so no configuration always runs right after another.
                for (int i = 0; i < workers.Count; i++)
                {
                    var w = workers[(i + r) % workers.Count];
                    var reply = w.Call($"train {trainSteps}");
                    var t = reply.GetProperty("step_s").EnumerateArray().Select(e => e.GetDouble()).ToList();
                    if (reply.TryGetProperty("loss", out var l)) losses[w.Name].AddRange(l.EnumerateArray().Select(e => e.GetDouble()));
                    train[w.Name].AddRange(t); trainRound[w.Name].Add(Bench.Median(t));
                    var f = w.Call($"infer {inferSteps}").GetProperty("step_s").EnumerateArray().Select(e => e.GetDouble()).ToList();
                    infer[w.Name].AddRange(f); inferRound[w.Name].Add(Bench.Median(f));
                    matmul[w.Name].AddRange(w.Call("matmul 5").GetProperty("gflops").EnumerateArray().Select(e => e.GetDouble()));
                    if (w.Name.Contains("bf16", StringComparison.Ordinal))
                        matmulBf16.AddRange(w.Call("matmul 3 bf16").GetProperty("gflops").EnumerateArray().Select(e => e.GetDouble()));
                }
                Console.WriteLine($"round {r + 1}/{rounds}: " + string.Join(", ", workers.Select(w => string.Create(CultureInfo.InvariantCulture,
                    $"{w.Name} train {batch * seq / trainRound[w.Name][^1]:F0} tok/s infer {inferBatch * seq / inferRound[w.Name][^1]:F0} tok/s"))));
            }

            double trainFlops = 3 * ForwardFlopsPerToken(seq, true), inferFlops = ForwardFlopsPerToken(seq, false);
            double peak = matmul.Values.SelectMany(v => v).Max(); // the best any configuration reached: the machine's measured peak
            var summary = new Dictionary<string, object>();
            foreach (var w in workers)
            {
                double ts = Bench.Median(train[w.Name]), fs = Bench.Median(infer[w.Name]);
                double trainTps = batch * seq / ts, inferTps = inferBatch * seq / fs;
                summary[w.Name] = new Dictionary<string, object>
                {
                    ["train_step_ms_median"] = Math.Round(ts * 1000, 1), ["train_tokens_per_s"] = Math.Round(trainTps),
                    ["train_model_gflops"] = Math.Round(trainTps * trainFlops / 1e9, 1), ["train_fraction_of_peak"] = Math.Round(trainTps * trainFlops / 1e9 / peak, 3),
                    ["infer_step_ms_median"] = Math.Round(fs * 1000, 1), ["infer_tokens_per_s"] = Math.Round(inferTps),
                    ["infer_model_gflops"] = Math.Round(inferTps * inferFlops / 1e9, 1), ["infer_fraction_of_peak"] = Math.Round(inferTps * inferFlops / 1e9 / peak, 3),
                    ["matmul_gflops_median"] = Math.Round(Bench.Median(matmul[w.Name]), 1), ["matmul_gflops_max"] = Math.Round(matmul[w.Name].Max(), 1),
                    ["train_steps"] = train[w.Name].Count, ["infer_steps"] = infer[w.Name].Count, ["info"] = w.Info,
                    ["preflight_matmul_gflops"] = preflight[w.Name],
                };
                if (checks.TryGetValue(w.Name, out var check)) ((Dictionary<string, object>)summary[w.Name])["peer_check"] = check.ToJson();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{w.Name}: train {ts * 1000:F1} ms/step = {trainTps:F0} tokens/s = {trainTps * trainFlops / 1e9:F1} GFLOP/s ({trainTps * trainFlops / 1e9 / peak:P1} of peak); infer {inferTps:F0} tokens/s = {inferTps * inferFlops / 1e9:F1} GFLOP/s; matmul {matmulN}³ median {Bench.Median(matmul[w.Name]):F1} GFLOP/s")
                    + (checks.TryGetValue(w.Name, out var c) ? $"; BLAS {c.BlasDetail}" : ""));
            }
            // Per-round ratios against the peer (the controlled numbers on a shared machine).
            var ratios = new Dictionary<string, object>();
            // Against every peer configuration (the goal is stated against the fastest one).
            foreach (string peerName in workers.Select(w => w.Name).Where(IsPeer))
                foreach (var w in workers.Where(w => !IsPeer(w.Name)))
                {
                    double tr = Bench.Median(trainRound[w.Name].Zip(trainRound[peerName], (a, b) => b / a));
                    double ir = Bench.Median(inferRound[w.Name].Zip(inferRound[peerName], (a, b) => b / a));
                    var check = checks[peerName];
                    ratios[$"{w.Name}_over_{peerName}"] = new Dictionary<string, object>
                    {
                        ["train"] = Math.Round(tr, 3), ["infer"] = Math.Round(ir, 3), ["peer"] = check.Summary, ["warning"] = check.Warning,
                    };
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{w.Name} / {peerName}: training {tr:F2}x, inference {ir:F2}x (median of {rounds} per-round ratios; peer: {check.Summary})")
                        + (check.Fair ? "" : "  " + check.Warning));
                }
            // Our configurations run the same seeded updates on the same batches: their losses must agree.
            var ourLosses = workers.Where(w => w.Name.StartsWith("ours", StringComparison.Ordinal) && losses[w.Name].Count > 0).ToList();
            double lossDiff = 0;
            foreach (var w in ourLosses.Skip(1))
                lossDiff = Math.Max(lossDiff, losses[w.Name].Zip(losses[ourLosses[0].Name], (a, b) => Math.Abs(a - b)).DefaultIfEmpty(0).Max());
            if (ourLosses.Count > 1)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"largest |loss difference| between {string.Join(", ", ourLosses.Select(w => w.Name))} over {losses[ourLosses[0].Name].Count} identical updates: {lossDiff:G3} (loss about {losses[ourLosses[0].Name][^1]:F3})"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"VsPyTorch: matmul peak {peak:F1} GFLOP/s ({matmulN}³ FP32, best of all samples); training FLOPs/token {trainFlops / 1e6:F2} M, inference {inferFlops / 1e6:F2} M"));
            if (matmulBf16.Count > 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"VsPyTorch: bf16 matmul through our libtorch: median {Bench.Median(matmulBf16):F1}, best {matmulBf16.Max():F1} GFLOP/s ({matmulN}³)"));
            Bench.Append(o.GetValueOrDefault("results", Bench.DefaultResults), "VsPyTorch", new Dictionary<string, object>
            {
                ["vocab"] = Vocab, ["hidden"] = Hidden, ["layers"] = Layers, ["heads"] = Heads, ["ffn"] = Ffn, ["batch"] = batch, ["seq"] = seq,
                ["infer_batch"] = inferBatch, ["rounds"] = rounds, ["train_steps_per_round"] = trainSteps, ["infer_steps_per_round"] = inferSteps,
                ["warmup_steps"] = warmup, ["matmul_n"] = matmulN, ["matmul_peak_gflops"] = Math.Round(peak, 1),
                ["matmul_bf16_gflops_best"] = matmulBf16.Count > 0 ? Math.Round(matmulBf16.Max(), 1) : 0,
                ["train_flops_per_token"] = trainFlops, ["infer_flops_per_token"] = inferFlops, ["configs"] = summary, ["ratios"] = ratios,
                ["our_configs_max_abs_loss_difference"] = lossDiff, ["our_configs_compared_updates"] = ourLosses.Count > 1 ? losses[ourLosses[0].Name].Count : 0,
                ["allow_slow_peer"] = allowSlowPeer,
            });
            return 0;
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
            try { Directory.Delete(work, true); } catch (IOException) { }
        }
    }

    private static bool IsPeer(string config) => config.StartsWith("peer", StringComparison.Ordinal);

    private static int Int(Dictionary<string, string> o, string name, int fallback) =>
        o.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>A child process speaking the line protocol: one command per line, one JSON line back.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly Process _process;
        private Worker(string name, Process process, string info) { Name = name; _process = process; Info = info; }
        public string Name { get; }
        public string Info { get; }

        public static Worker Start(string name, string file, string arguments, Dictionary<string, string> env)
        {
            var psi = new ProcessStartInfo(file, arguments) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var (k, v) in env) psi.Environment[k] = v;
            var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}.");
            string ready = ReadReply(p, name);
            return new Worker(name, p, ready);
        }

        public JsonElement Call(string command)
        {
            _process.StandardInput.WriteLine(command);
            _process.StandardInput.Flush();
            return JsonDocument.Parse(ReadReply(_process, Name)).RootElement;
        }

        private static string ReadReply(Process p, string name)
        {
            while (true)
            {
                string? line = p.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"Worker {name} exited (code {(p.HasExited ? p.ExitCode : -1)}).");
                if (line.StartsWith('{')) return line; // anything else is the worker's log
                Console.Error.WriteLine($"[{name}] {line}");
            }
        }

        public void Dispose()
        {
            try { _process.StandardInput.WriteLine("quit"); _process.StandardInput.Flush(); if (!_process.WaitForExit(30_000)) _process.Kill(); }
            catch (IOException) { }
            catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }

    /// <summary>
    /// Our worker: the real pretraining path (<see cref="TrainingLoop{TBatch}"/> with
    /// <see cref="MaskedLmObjective"/> and the pretrainer's AdamEF groups, K = 0, clipping 0.5) running on
    /// its own thread and fed one batch per permitted step, so that the time of a step is the loop's whole
    /// iteration; inference is the mean-pooled encoder forward that LanguageModelTransformer computes.
    /// </summary>
    public static int RunWorker(string[] args)
    {
        var o = Bench.Options(args, "work", "rows", "seq", "batch", "infer-batch", "matmul-n", "explicit-attention", "autocast");
        string work = o["work"];
        int rows = Int(o, "rows", 0), seq = Int(o, "seq", 128), batch = Int(o, "batch", 32), inferBatch = Int(o, "infer-batch", 64), matmulN = Int(o, "matmul-n", 2048);
        bool explicitAttention = o.GetValueOrDefault("explicit-attention", "false") == "true";
        var precision = o.GetValueOrDefault("autocast", "off") switch { "bf16" => MatmulPrecision.BFloat16, "off" => MatmulPrecision.Float32, var x => throw new ArgumentException($"--autocast {x}: bf16 or off") };
        TorchRuntime.EnsureInitialized();
        var tokenizer = SubwordTokenizer.FromFiles(Directory.GetFiles(work).Where(f => !f.EndsWith("ids.bin", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes));
        var sequences = new List<int[]>();
        using (var r = new BinaryReader(File.OpenRead(Path.Combine(work, "ids.bin"))))
            for (int i = 0; i < rows; i++) { var s = new int[seq]; for (int j = 0; j < seq; j++) s[j] = r.ReadInt32(); sequences.Add(s); }

        var config = RobertaConfig.Small(tokenizer.VocabSize) with { MaxSequenceLength = seq };
        using var model = new RobertaForMaskedLM(config);
        model.InitializeWeights(new Generator(1));
        foreach (var a in model.modules().OfType<RobertaSelfAttention>()) a.ExplicitAttention = explicitAttention;
        var settings = new PretrainingSettings { MaxSteps = 1_000_000, ResetInterval = 0, BatchSize = batch, MaxSequenceLength = seq, Seed = 1 };
        using var optimizer = ActiveForgetting.CreateOptimizer(model, settings);
        var objective = new MaskedLmObjective(model, tokenizer, CPU, settings.MaskProbability);
        var loop = new TrainingLoop<IReadOnlyList<int[]>>(model, optimizer, new TrainingLoopOptions { MaxSteps = settings.MaxSteps, Seed = 1, ClipNorm = settings.ClipNorm, LogInterval = 1_000_000, MatmulPrecision = precision });

        // The loop thread pulls batches; each pull waits for a permit and marks the end of the previous iteration.
        using var permits = new SemaphoreSlim(0);
        using var done = new SemaphoreSlim(0);
        using var cancel = new CancellationTokenSource();
        var stepSeconds = new List<double>();
        var iteration = new Stopwatch();
        int cursor = 0;
        IEnumerable<IReadOnlyList<int[]>> Epoch(int _)
        {
            while (true)
            {
                if (iteration.IsRunning) { stepSeconds.Add(iteration.Elapsed.TotalSeconds); iteration.Reset(); done.Release(); }
                permits.Wait();
                var b = new List<int[]>(batch);
                for (int i = 0; i < batch; i++) b.Add(sequences[(cursor + i) % sequences.Count]);
                cursor += batch;
                iteration.Start();
                yield return b;
            }
        }
        var thread = new Thread(() =>
        {
            try { loop.Run(Epoch, objective.Step, cancel.Token); }
            catch (OperationCanceledException) { }
        }) { IsBackground = true };
        thread.Start();

        var pooled = sequences.Take(inferBatch).ToList();
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["framework"] = "TorchSharp 0.107 / libtorch", ["threads"] = torch.get_num_threads(), ["mkl_vendor_shim"] = MklVendorShim.LoadedPath ?? "off",
            ["explicit_attention"] = explicitAttention, ["autocast"] = precision.ToString(), ["parameters"] = model.parameters().Sum(p => p.numel()),
        }));
        string? line;
        while ((line = Console.ReadLine()) is not null && line != "quit")
        {
            var parts = line.Split(' ');
            int n = int.Parse(parts[1], CultureInfo.InvariantCulture);
            var times = new List<double>();
            switch (parts[0])
            {
                case "train":
                    stepSeconds.Clear();
                    for (int i = 0; i < n; i++) { permits.Release(); done.Wait(); }
                    // The losses let the coordinator check that configurations compute the same thing.
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["step_s"] = stepSeconds.ToList(), ["loss"] = loop.History.Steps.TakeLast(n).Select(s => s.Loss).ToList(),
                    }));
                    continue;
                case "infer":
                    model.eval();
                    for (int i = 0; i < n; i++)
                    {
                        var w = Stopwatch.StartNew();
                        using (var scope = NewDisposeScope())
                        using (no_grad())
                        using (Modeling.Autocast.Enable(precision))
                        {
                            var (ids, mask) = PaddedBatch.Create(pooled, tokenizer.PadId, CPU);
                            var emb = model.MeanPooled(ids, mask).cpu();
                            _ = emb.data<float>().ToArray();
                        }
                        times.Add(w.Elapsed.TotalSeconds);
                    }
                    model.train();
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["step_s"] = times }));
                    continue;
                case "matmul":
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["gflops"] = Matmul(matmulN, n, parts.Length > 2 && parts[2] == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32) }));
                    continue;
                default: throw new InvalidOperationException($"Unknown command '{line}'.");
            }
        }
        cancel.Cancel();
        permits.Release(); // let the loop see the cancellation
        thread.Join(10_000);
        return 0;
    }

    /// <summary>GFLOP/s of <paramref name="reps"/> n×n×n matmuls (FP32 unless <paramref name="dtype"/>) through libtorch (after one untimed call).</summary>
    public static List<double> Matmul(int n, int reps, ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        using var a = randn(n, n).to(dtype); using var b = randn(n, n).to(dtype);
        using (var _ = a.matmul(b)) { }
        var result = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            var w = Stopwatch.StartNew();
            using (var c = a.matmul(b)) { }
            result.Add(Math.Round(2.0 * n * n * n / w.Elapsed.TotalSeconds / 1e9, 1));
        }
        return result;
    }
}
