# NATS identities of the VM tests and of .ci/check-bus-authorization.py: NKey user key pairs
# made for these tests only (their seeds are public here). A real deployment makes its own
# (`nk -gen user -pubout`, docs/NIXOS.md) and keeps the seeds in files outside the store.
{
  server = {
    seed = "SUACIOI3WL6FWZLSYI5MFH7F7WIBVFJM4IOTG4OVTOQ4P76IM34SUS63HA";
    publicKey = "UDJ7C2EGVWYBJSXD3IYKRAMASEOZLYPMMSYBB2IUAYBTDVGIA7A725MZ";
  };
  laptop-alice = {
    seed = "SUAELKAM47RVYQ2DVXNN7WVVSB4LMVR3I5H6GXZWTTUQ2ATEJUOQTWKVF4";
    publicKey = "UCBISUX75QFHZDN6GKQYMTPM2F4SCMZEGJVPQHEJRUTFN4DK5FFEE3LW";
  };
  desk-alice = {
    seed = "SUAJ4PADJ7Y4AKJ5RBUIIGFNUPVY4ZJIDFFZJOJGTZMXXHB67ADLUELLOQ";
    publicKey = "UDILMLIDXTNSTFOQ2CQ3WMDH7RZGDUAOWH5ZIGDTP44G7NT4WSMRY7MJ";
  };
}
