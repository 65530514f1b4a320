// The Function app's user-assigned managed identity. Every data-plane role is granted to it
// (never to the app itself), so the grants exist before the app starts and survive a
// re-created app. The app selects it through AZURE_CLIENT_ID (DefaultAzureCredential).
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
