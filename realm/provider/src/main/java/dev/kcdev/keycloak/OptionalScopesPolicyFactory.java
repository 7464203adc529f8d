package dev.kcdev.keycloak;

import java.util.List;

import org.keycloak.component.ComponentModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientregistration.policy.AbstractClientRegistrationPolicyFactory;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;

/**
 * Registers {@link OptionalScopesPolicy} as a client registration policy, to be added as a
 * component of subtype {@code anonymous} (or {@code authenticated}) to a realm.
 */
public final class OptionalScopesPolicyFactory extends AbstractClientRegistrationPolicyFactory {

    /** The component's providerId; kcdev's Rust code names it as PROVIDER_ID. */
    public static final String PROVIDER_ID = "kcdev-optional-scopes";

    @Override
    public ClientRegistrationPolicy create(KeycloakSession session, ComponentModel model) {
        return new OptionalScopesPolicy();
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    /** Nothing to configure: every realm default and optional scope is given. */
    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return List.of();
    }

    @Override
    public String getHelpText() {
        return "Gives every client registered through Dynamic Client Registration the realm's "
                + "default client scopes as default scopes and its optional client scopes as "
                + "optional ones, so that its tokens carry the realm's default scopes and it can "
                + "ask for an optional one later (step-up) that it did not name when it registered.";
    }
}
