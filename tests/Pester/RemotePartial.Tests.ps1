# -Partial on a push against a private OpenSSH sshd on 127.0.0.1 (Support/TestSshServer.psm1), issue #6 item 3: the SSH
# connection is killed past the middle of a 64 MiB file; the agent has kept what it received as the partial file, and
# the next run with -Partial resumes from it, sending well under half of the file.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    . (Join-Path $PSScriptRoot 'Support/ConnectionFaults.ps1')
    Start-RemoteTestSession 'rpartial'

    function Get-Length([string] $Path) { if (Test-Path -LiteralPath $Path) { (Get-Item -LiteralPath $Path -Force).Length } else { 0 } }

    Invoke-WarmUpPush
}

AfterAll { Stop-RemoteTestSession $server $work }

Describe 'A push with -Partial whose SSH connection is killed past the middle of a file' {
    BeforeAll {
        # 64 MiB at 8 MiB/s: about 8 s of transfer, so the kill lands past the middle whatever the machine's load.
        $script:size = 64MB
        $script:src = Join-Path $work 'src'
        $null = New-Item -ItemType Directory -Path $src
        Write-RandomFile (Join-Path $src 'big.bin') $size 17
    }

    It 'keeps the partial file, and the resumed push sends well under half of the file' -TestCases @(
        @{ Options = @{ Partial = $true }; PartialName = '.big.bin.psreplica-partial' }
        @{ Options = @{ PartialDirectory = '.partial' }; PartialName = '.partial/big.bin' }
    ) {
        param($Options, $PartialName)
        $dst = Join-Path $work ('dst-' + [guid]::NewGuid().ToString('N'))
        $partial = Join-Path $dst $PartialName
        $job = Start-BackgroundSync $src (Get-RemoteAddress $dst) ($ssh + $Options + @{ BandwidthLimit = 8192 })
        Wait-Until { (Get-Length $partial) -gt 36MB } 'the push to have written more than half of the file'
        Stop-SshConnections
        $result = Receive-BackgroundSync $job

        $result | Should -BeOfType [System.Management.Automation.ErrorRecord]
        Test-Path -LiteralPath (Join-Path $dst 'big.bin') | Should -BeFalse -Because 'the file was not complete'
        $kept = Get-Length $partial
        $kept | Should -BeGreaterThan 32MB -Because 'what arrived stays as the partial file'

        $items = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) @ssh @Options -ErrorAction Stop
        $item = $items | Where-Object RelativePath -EQ 'big.bin'
        $item.Action | Should -Be 'Create'
        $item.BytesTransferred | Should -BeLessThan ($size / 2) -Because "the $kept bytes kept are not sent again"
        (Get-FileHash -LiteralPath (Join-Path $dst 'big.bin')).Hash | Should -Be (Get-FileHash -LiteralPath (Join-Path $src 'big.bin')).Hash
        Test-Path -LiteralPath $partial | Should -BeFalse
        @(Get-ChildItem -LiteralPath $dst -Force).Name | Should -Be @('big.bin')
    }

    It 'with -RetryCount reconnects by itself and resumes from the partial file' {
        $dst = Join-Path $work ('dst-' + [guid]::NewGuid().ToString('N'))
        $partial = Join-Path $dst '.big.bin.psreplica-partial'
        $job = Start-BackgroundSync $src (Get-RemoteAddress $dst) ($ssh + @{ Partial = $true; RetryCount = 2; RetryDelay = 0; BandwidthLimit = 8192 })
        Wait-Until { (Get-Length $partial) -gt 36MB } 'the push to have written more than half of the file'
        Stop-SshConnections
        Receive-BackgroundSync $job | Should -Be 'completed' -Because 'the lost connection is retried, not reported'
        (Get-FileHash -LiteralPath (Join-Path $dst 'big.bin')).Hash | Should -Be (Get-FileHash -LiteralPath (Join-Path $src 'big.bin')).Hash
        @(Get-ChildItem -LiteralPath $dst -Force).Name | Should -Be @('big.bin')
    }

    It 'without -Partial leaves no partial file behind' {
        $dst = Join-Path $work ('dst-' + [guid]::NewGuid().ToString('N'))
        $job = Start-BackgroundSync $src (Get-RemoteAddress $dst) ($ssh + @{ BandwidthLimit = 8192 })
        Wait-Until { @(Get-ChildItem -LiteralPath $dst -Force -ErrorAction Ignore | Where-Object Length -GT 8MB).Count -gt 0 } 'the push to have written 8 MiB'
        Stop-SshConnections
        $result = Receive-BackgroundSync $job

        $result | Should -BeOfType [System.Management.Automation.ErrorRecord]
        # The agent removes its temp file once it sees the connection gone.
        Wait-Until { @(Get-ChildItem -LiteralPath $dst -Force -ErrorAction Ignore).Count -eq 0 } 'the temp file to be removed'
        @(Get-ChildItem -LiteralPath $dst -Force -ErrorAction Ignore | Where-Object Name -Like '*psreplica-partial*').Count | Should -Be 0
    }
}
