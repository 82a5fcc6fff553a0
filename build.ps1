#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, documents, tests and demonstrates PSReplica.
.DESCRIPTION
    The entry point only; the tasks live in .build/Build.psm1.
      Build  (default) compile and lay the importable module out in out/PSReplica
      Help   compile docs/*.md into en-US/ (MAML and about_ topics), failing on drift from the cmdlets
      Test   xunit, then Pester in a child pwsh that imports out/PSReplica; prints one line per failure (name and
             message) and ends with "N passed, N failed". The runners' own output, the trx files and Pester's XML
             (full messages, stack traces) are in out/TestResults.
      Demo   build, replicate a generated sample tree, change it, re-sync with -Delete, show the objects
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Help', 'Test', 'Demo')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Pester tests to run (file paths or names under tests/Pester); all when omitted.
    [string[]] $PesterPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot '.build/Build.psm1') -Force

switch ($Task) {
    'Build' { Invoke-PSReplicaBuild -Configuration $Configuration }
    'Help' { Invoke-PSReplicaBuild -Configuration $Configuration }
    'Test' { Invoke-PSReplicaTest -Configuration $Configuration -PesterPath $PesterPath }
    'Demo' { Invoke-PSReplicaDemo -Configuration $Configuration }
}
