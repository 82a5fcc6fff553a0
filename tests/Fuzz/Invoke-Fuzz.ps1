#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Runs the fuzzing harness (tests/PSReplica.Fuzz.Tests) for longer than CI does: minutes per target, from a random seed.
.DESCRIPTION
    The harness is seeded, bounded and coverage-agnostic (see tests/Fuzz/README.md). CI runs it as part of the test
    command with a fixed seed and a fixed number of mutations per target. This script runs the same targets with the
    environment variables the harness reads: PSREPLICA_FUZZ_SEED (here 'random' unless -Seed is given; the seed each
    target used is printed and written to the summary), PSREPLICA_FUZZ_MINUTES (time per target), PSREPLICA_FUZZ_CRASHES
    (where crashing inputs go). It prints the per-target summaries and lists the crash files; it exits 1 when any
    target crashed.

    With -WriteCorpus it rewrites the seed files of tests/Fuzz/corpus from the current encoders instead (commit them).
.PARAMETER Minutes
    Minutes per target. Default 10 (15 targets: about 2.5 hours).
.PARAMETER Seed
    A seed to replay; default a random one.
.PARAMETER Target
    Run only these targets (the corpus folder names: frames, mux, listing ...).
.PARAMETER CrashPath
    Where crashing inputs are written. Default out/fuzz/<UTC time>.
.PARAMETER WriteCorpus
    Rewrite tests/Fuzz/corpus/<target>/seed-* from the encoders, then stop.
.EXAMPLE
    dotnet pwsh ./tests/Fuzz/Invoke-Fuzz.ps1 -Minutes 20
.EXAMPLE
    dotnet pwsh ./tests/Fuzz/Invoke-Fuzz.ps1 -Minutes 5 -Target listing,listing-compact -Seed 1234
#>
[CmdletBinding()]
param(
    [double] $Minutes = 10,
    [int] $Seed,
    [string[]] $Target,
    [string] $CrashPath,
    [switch] $WriteCorpus
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
$project = Join-Path $root 'tests/PSReplica.Fuzz.Tests/PSReplica.Fuzz.Tests.csproj'

& dotnet build $project -c Release --nologo -v quiet
if ($LASTEXITCODE -ne 0) { throw "The fuzzing project did not build." }

if ($WriteCorpus) {
    $env:PSREPLICA_FUZZ_WRITE_CORPUS = Join-Path $root 'tests/Fuzz/corpus'
    try {
        & dotnet test $project -c Release --no-build --nologo --filter 'FullyQualifiedName~A_target_has_a_committed_corpus' --logger 'console;verbosity=normal'
    }
    finally { Remove-Item Env:PSREPLICA_FUZZ_WRITE_CORPUS }
    Write-Host "Seeds written under tests/Fuzz/corpus; rebuild before the next run so that they are copied."
    return
}

if (-not $CrashPath) { $CrashPath = Join-Path $root ('out/fuzz/' + [DateTime]::UtcNow.ToString('yyyyMMdd-HHmmss')) }
$null = New-Item -ItemType Directory -Force -Path $CrashPath
$env:PSREPLICA_FUZZ_SEED = if ($PSBoundParameters.ContainsKey('Seed')) { "$Seed" } else { 'random' }
$env:PSREPLICA_FUZZ_MINUTES = "$Minutes"
$env:PSREPLICA_FUZZ_CRASHES = $CrashPath
# The others' tests pass at once (a test filter cannot tell "listing" from "listing-compact" without quotes, which
# do not survive the trip to dotnet test).
if ($Target) { $env:PSREPLICA_FUZZ_TARGETS = $Target -join ',' }
$filter = 'FullyQualifiedName~A_target_refuses_every_mutated_input_cleanly'

$log = Join-Path $CrashPath 'run.log'
try {
    & dotnet test $project -c Release --no-build --nologo --filter $filter --logger 'console;verbosity=detailed' 2>&1 | Tee-Object -FilePath $log |
        Where-Object { $_ -match '^\s+[a-z-]+: seed \d+' -or $_ -match '\[FAIL\]' } | ForEach-Object { "$_".Trim() } | Select-Object -Unique
    $failed = $LASTEXITCODE -ne 0
}
finally {
    Remove-Item Env:PSREPLICA_FUZZ_SEED, Env:PSREPLICA_FUZZ_MINUTES, Env:PSREPLICA_FUZZ_CRASHES
    if ($Target) { Remove-Item Env:PSREPLICA_FUZZ_TARGETS }
}

$crashes = @(Get-ChildItem $CrashPath -Recurse -File -Filter '*.bin' | Where-Object Name -ne 'last-input.bin')
foreach ($crash in $crashes) { Write-Host "crash: $($crash.FullName)" -ForegroundColor Red }
Write-Host "Log: $log"
if ($failed -or $crashes) { exit 1 }
